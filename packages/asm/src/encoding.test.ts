import { describe, expect, it } from 'vitest';
import { Atomic, exit, JGT, LoadImm64, LoadMem, Mov, StoreImm } from './builder/index.js';
import { decode, encode } from './encoding.js';
import { DecodeError, EncodeError } from './errors.js';
import { Instruction } from './instruction.js';
import { R0, R1, R10, R2 } from './register.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s/g, ''), 'hex'));

describe('encode', () => {
  it('lays out struct bpf_insn little-endian: opcode, src<<4|dst, offset, imm (as llvm-mc does)', () => {
    expect(hex(encode([LoadMem(R0, R1, 8, 'u32')]))).toBe('6110080000000000');
    expect(hex(encode([JGT.reg(R1, R2, 3)]))).toBe('2d21030000000000');
    expect(hex(encode([Atomic.add(R10, -8, R1, 'u64')]))).toBe('db1af8ff00000000');
    expect(hex(encode([StoreImm(R1, 4, 5, 'u32')]))).toBe('6201040005000000');
  });

  it('lays out big-endian with dst in the high nibble', () => {
    expect(hex(encode([LoadMem(R0, R1, 8, 'u32')], { endian: 'big' }))).toBe('6101000800000000');
    expect(hex(encode([Mov.imm(R1, -2)], { endian: 'big' }))).toBe('b7100000fffffffe');
  });

  it('writes LD_IMM64 as two slots with the high half in the second imm', () => {
    expect(hex(encode([LoadImm64(R1, 0x123456789n)]))).toBe('1801000089674523' + '0000000001000000');
    expect(hex(encode([LoadImm64(R1, -1n)]))).toBe('18010000ffffffff' + '00000000ffffffff');
  });

  it('rejects an invalid instruction with a typed error naming its slot index', () => {
    const bad = new Instruction(0x07, R1, 3, 0, 1); // ALU64 ADD K with src set
    const err = (() => {
      try {
        encode([LoadImm64(R0, 1), exit(), bad]);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(EncodeError);
    expect(err).toMatchObject({ index: 3, kind: 'reserved' });
    expect(() => encode([new Instruction(0x07, R1, 0, 0, 2 ** 31)])).toThrow(/imm 2147483648 does not fit/);
    expect(() => encode([new Instruction(0xb7, 11 as never, 0, 0, 0)])).toThrow(EncodeError);
  });
});

describe('decode', () => {
  it('inverts encode in both byte orders', () => {
    const prog = [LoadImm64(R2, -0x7fffffff00000001n), LoadMem(R0, R1, -4, 'u16'), JGT.imm(R1, 7, -2), exit()];
    for (const endian of ['little', 'big'] as const) {
      const back = decode(encode(prog, { endian }), { endian });
      expect(back).toHaveLength(4);
      back.forEach((insn, i) => expect(insn.equals(prog[i]!)).toBe(true));
      expect(back[0]!.constant).toBe(-0x7fffffff00000001n);
    }
  });

  const cases: Array<[string, string, number, string]> = [
    ['a length that is not a multiple of 8', '9500000000000000 95', 1, 'misaligned'],
    ['an unknown opcode', '9500000000000000 ff00000000000000', 1, 'opcode'],
    ['a destination register above r10', 'b70b000000000000', 0, 'register'],
    ['a source register above r10', 'bfb1000000000000', 0, 'register'],
    ['a reserved field set (src of an immediate add)', '0721000001000000', 0, 'reserved'],
    ['an LD_IMM64 without its second slot', '9500000000000000 1801000001000000', 1, 'truncated'],
    ['an LD_IMM64 whose second slot has an opcode', '1801000001000000 9500000000000000', 1, 'reserved'],
  ];
  for (const [what, input, index, kind] of cases) {
    it(`rejects ${what} with a DecodeError at instruction ${index}`, () => {
      let err: unknown;
      try {
        decode(bytes(input));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DecodeError);
      expect(err).toMatchObject({ index, kind });
      expect((err as Error).message).toMatch(new RegExp(`^instruction ${index}: `));
    });
  }
});
