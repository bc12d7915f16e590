import { Btf, BtfBuilder } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { CoreReloKind } from '../object/btf-ext.js';
import { applyCoreRelocations, POISON_IMM } from './relocate.js';
import { CoreRelocationError } from './spec.js';

/** struct <name> { int <fields[0]>; int <fields[1]>; ... }, plus the access string "0:<index of b>". */
function btfWith(structs: Record<string, string[]>): { btf: Btf; ids: Record<string, number>; access: number } {
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, { signed: true });
  const ids: Record<string, number> = {};
  for (const [name, fields] of Object.entries(structs)) {
    ids[name] = b.addStruct(
      name,
      fields.length * 4,
      fields.map((f, i) => ({ name: f, type: int, bitOffset: i * 32 })),
    );
  }
  const access = b.addString('0:1');
  return { btf: Btf.parse(b.build()), ids, access };
}

/** r0 = *(u32 *)(r1 + off); r0 = imm; exit */
function insns(off: number, imm: number): Uint8Array {
  const bytes = new Uint8Array(24);
  const v = new DataView(bytes.buffer);
  bytes[0] = 0x61;
  bytes[1] = 0x10;
  v.setInt16(2, off, true);
  bytes[8] = 0xb7;
  v.setInt32(12, imm, true);
  bytes[16] = 0x95;
  return bytes;
}

describe('applyCoreRelocations', () => {
  const local = btfWith({ foo___v2: ['a', 'b'] });
  const rec = (insn: number, kind: number) => ({
    insn,
    typeId: local.ids['foo___v2']!,
    accessStrOff: local.access,
    kind,
  });

  it('finds the field by name in the kernel type of the same essential name, and rewrites the offset', () => {
    const kernel = btfWith({ foo: ['x', 'pad', 'b'] }).btf;
    const code = insns(4, 1);
    const r = applyCoreRelocations(
      local.btf,
      code,
      [rec(0, CoreReloKind.FIELD_BYTE_OFFSET), rec(1, CoreReloKind.FIELD_EXISTS)],
      { vmlinux: kernel },
    );
    expect(r.map((x) => [x.local, x.target])).toEqual([
      [4, 8],
      [1, 1],
    ]);
    expect(new DataView(code.buffer).getInt16(2, true)).toBe(8);
  });

  it('looks in module BTF only when vmlinux has no candidate', () => {
    const vmlinux = btfWith({ other: ['b'] }).btf;
    let asked = 0;
    const code = insns(4, 1);
    applyCoreRelocations(local.btf, code, [rec(0, CoreReloKind.FIELD_BYTE_OFFSET)], {
      vmlinux,
      modules: () => (asked++, [btfWith({ foo: ['b', 'a'] }).btf]),
    });
    expect(asked).toBe(1);
    expect(new DataView(code.buffer).getInt16(2, true)).toBe(0);
  });

  it('poisons a relocation with no candidate, and answers 0 to an existence check', () => {
    const kernel = btfWith({ foo: ['a'] }).btf; // no member b
    const code = insns(4, 1);
    applyCoreRelocations(local.btf, code, [rec(0, CoreReloKind.FIELD_BYTE_OFFSET), rec(1, CoreReloKind.FIELD_EXISTS)], {
      vmlinux: kernel,
    });
    const v = new DataView(code.buffer);
    expect([code[0], v.getInt32(4, true)]).toEqual([0x85, POISON_IMM]); // call 0xbad2310
    expect(v.getInt32(12, true)).toBe(0);
  });

  it('refuses candidates that disagree, and instructions that do not hold the local value', () => {
    const b = new BtfBuilder();
    const int = b.addInt('int', 4, { signed: true });
    b.addStruct('foo', 8, [
      { name: 'a', type: int, bitOffset: 0 },
      { name: 'b', type: int, bitOffset: 32 },
    ]);
    b.addStruct('foo', 12, [
      { name: 'a', type: int, bitOffset: 0 },
      { name: 'b', type: int, bitOffset: 64 },
    ]);
    const twoFoos = Btf.parse(b.build());
    expect(() =>
      applyCoreRelocations(local.btf, insns(4, 1), [rec(0, CoreReloKind.FIELD_BYTE_OFFSET)], { vmlinux: twoFoos }),
    ).toThrow(CoreRelocationError);
    const kernel = btfWith({ foo: ['a', 'b'] }).btf;
    expect(() =>
      applyCoreRelocations(local.btf, insns(12, 1), [rec(0, CoreReloKind.FIELD_BYTE_OFFSET)], { vmlinux: kernel }),
    ).toThrow(/not the expected 4/);
  });
});
