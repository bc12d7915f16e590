import { describe, expect, it } from 'vitest';
import { checkInstruction, checkSecondSlot } from './validate.js';

describe('checkInstruction (what decode and encode accept)', () => {
  const valid: Array<[string, number, number, number, number, number]> = [
    ['r1 += 1', 0x07, 1, 0, 0, 1],
    ['r1 s/= r2 (offset 1 marks signed)', 0x3f, 1, 2, 1, 0],
    ['r1 = (s32)r2 (movsx width in offset)', 0xbf, 1, 2, 32, 0],
    ['addr_space_cast (offset 1, address spaces in imm)', 0xbf, 1, 2, 1, 0x10002],
    ['r1 = be16 r1 (ALU, source bit = big-endian)', 0xdc, 1, 0, 0, 16],
    ['call kfunc with a module BTF index in offset', 0x85, 0, 2, 3, 1234],
    ['gotol with its distance in imm', 0x06, 0, 0, 0, -100000],
    ['may_goto', 0xe5, 0, 0, 7, 0],
    ['LD_IMM64 with pseudo source 6 (map idx value)', 0x18, 3, 6, 0, 1],
    ['r0 = *(u16 *)skb[r6]', 0x48, 0, 6, 0, 14],
    ['w0 = load_acquire((u8 *)(r10 - 1))', 0xd3, 0, 10, -1, 0x100],
  ];
  for (const [what, opcode, dst, src, offset, imm] of valid) {
    it(`accepts ${what}`, () => expect(checkInstruction(opcode, dst, src, offset, imm)).toBeUndefined());
  }

  const invalid: Array<[string, number, number, number, number, number, string, RegExp]> = [
    ['opcode 0xff', 0xff, 0, 0, 0, 0, 'opcode', /unknown opcode 0xff/],
    ['a 64-bit byte swap with the source bit (0xdf)', 0xdf, 1, 0, 0, 16, 'opcode', /unknown opcode 0xdf/],
    ['a sign-extending load of 8 bytes (0x99)', 0x99, 1, 2, 0, 0, 'opcode', /unknown opcode 0x99/],
    ['an LD_ABS of 8 bytes (0x38)', 0x38, 0, 0, 0, 0, 'opcode', /unknown opcode/],
    ['call in JMP32 (0x86)', 0x86, 0, 0, 0, 1, 'opcode', /unknown opcode/],
    ['a register above r10', 0xb7, 11, 0, 0, 0, 'register', /r11 does not exist/],
    ['a source register above r10', 0xbf, 1, 12, 0, 0, 'register', /r12 does not exist/],
    ['imm set on a register ALU op', 0x0f, 1, 2, 0, 5, 'reserved', /requires imm 0, got 5/],
    ['an offset on add', 0x07, 1, 0, 3, 1, 'reserved', /requires offset 0, got 3/],
    ['div with offset 2', 0x37, 1, 0, 2, 1, 'reserved', /offset 0 or 1/],
    ['a 32-bit movsx of 32 bits', 0xbc, 1, 2, 32, 0, 'reserved', /offset 0, 8, 16, got 32/],
    ['a byte swap of 8 bits', 0xd4, 1, 0, 0, 8, 'reserved', /imm 16, 32 or 64/],
    ['goto with imm set', 0x05, 0, 0, 1, 1, 'reserved', /requires imm 0/],
    ['exit with a register', 0x95, 0, 1, 0, 0, 'reserved', /requires src 0/],
    ['call with pseudo source 3', 0x85, 0, 3, 0, 1, 'reserved', /unknown pseudo source 3/],
    ['LD_IMM64 with pseudo source 7', 0x18, 1, 7, 0, 0, 'reserved', /unknown pseudo source 7/],
    ['an unknown atomic operation', 0xdb, 1, 2, 0, 0x02, 'reserved', /unknown operation imm 0x02/],
    ['a 1-byte atomic add', 0xd3, 1, 2, 0, 0x00, 'reserved', /must be load_acquire/],
    ['LD_ABS with a destination register', 0x30, 1, 0, 0, 0, 'reserved', /requires dst 0/],
  ];
  for (const [what, opcode, dst, src, offset, imm, kind, message] of invalid) {
    it(`rejects ${what}`, () => {
      const p = checkInstruction(opcode, dst, src, offset, imm);
      expect(p?.kind).toBe(kind);
      expect(p?.detail).toMatch(message);
    });
  }

  it('requires the second slot of LD_IMM64 to be zero but for its imm', () => {
    expect(checkSecondSlot(0, 0, 0)).toBeUndefined();
    expect(checkSecondSlot(0x95, 0, 0)?.detail).toMatch(/opcode 0, got 0x95/);
    expect(checkSecondSlot(0, 0x12, 0)?.detail).toMatch(/registers 0/);
    expect(checkSecondSlot(0, 0, 4)?.detail).toMatch(/offset 0, got 4/);
  });
});
