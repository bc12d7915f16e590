import { describe, expect, it } from 'vitest';
import { Btf } from './btf.js';
import { BtfBuilder } from './builder.js';
import { BtfError, BtfNotFoundError } from './errors.js';
import { dataBlob, nfConntrack61 } from '../test/fixtures.js';

/** A blob with one type of every kind, built in either byte order. */
function everyKind(littleEndian = true): { bytes: Uint8Array; ids: Record<string, number> } {
  const b = new BtfBuilder({ littleEndian });
  const int = b.addInt('int', 4, { signed: true });
  const uint = b.addInt('unsigned int', 4);
  const ptr = b.addPtr(int);
  const arr = b.addArray(int, uint, 16);
  const st = b.addStruct('pair', 8, [
    { name: 'a', type: int, bitOffset: 0 },
    { name: 'flags', type: uint, bitOffset: 32, bitfieldSize: 3 },
  ]);
  const un = b.addUnion('either', 4, [{ name: 'i', type: int, bitOffset: 0 }]);
  const en = b.addEnum(
    'color',
    4,
    [
      { name: 'RED', value: -1 },
      { name: 'GREEN', value: 2 },
    ],
    { signed: true },
  );
  const fwd = b.addFwd('later', 'union');
  const td = b.addTypedef('s32', int);
  const vol = b.addVolatile(int);
  const cst = b.addConst(int);
  const res = b.addRestrict(ptr);
  const proto = b.addFuncProto(int, [{ name: 'x', type: int }], { variadic: true });
  const fn = b.addFunc('f', proto, 'static');
  const v = b.addVar('counter', int, 'global');
  const sec = b.addDatasec('.data', 4, [{ type: v, offset: 0, size: 4 }]);
  const flt = b.addFloat('double', 8);
  const tag = b.addDeclTag('bpf_kfunc', fn);
  const ttag = b.addTypeTag('user', int);
  const e64 = b.addEnum64('big', 8, [{ name: 'HUGE', value: 0xffff_ffff_ffffn }]);
  return {
    bytes: b.build(),
    ids: { int, uint, ptr, arr, st, un, en, fwd, td, vol, cst, res, proto, fn, v, sec, flt, tag, ttag, e64 },
  };
}

describe('Btf', () => {
  for (const le of [true, false]) {
    it(`decodes every kind (${le ? 'little' : 'big'}-endian)`, () => {
      const { bytes, ids } = everyKind(le);
      const btf = Btf.parse(bytes);
      expect(btf.littleEndian).toBe(le);
      expect(btf.typeCount).toBe(20);
      expect(btf.type(0)).toMatchObject({ kind: 'void' });
      expect(btf.type(ids.int!)).toMatchObject({ kind: 'int', name: 'int', size: 4, bits: 32, signed: true });
      expect(btf.type(ids.ptr!)).toMatchObject({ kind: 'ptr', type: ids.int });
      expect(btf.type(ids.arr!)).toMatchObject({ kind: 'array', type: ids.int, indexType: ids.uint, nelems: 16 });
      expect(btf.type(ids.st!)).toMatchObject({
        kind: 'struct',
        name: 'pair',
        size: 8,
        kindFlag: true,
        members: [
          { name: 'a', type: ids.int, bitOffset: 0, bitfieldSize: 0 },
          { name: 'flags', type: ids.uint, bitOffset: 32, bitfieldSize: 3 },
        ],
      });
      expect(btf.type(ids.un!)).toMatchObject({ kind: 'union', members: [{ name: 'i' }] });
      expect(btf.type(ids.en!)).toMatchObject({
        kind: 'enum',
        signed: true,
        values: [
          { name: 'RED', value: -1 },
          { name: 'GREEN', value: 2 },
        ],
      });
      expect(btf.type(ids.fwd!)).toMatchObject({ kind: 'fwd', fwdKind: 'union' });
      expect(btf.type(ids.td!)).toMatchObject({ kind: 'typedef', name: 's32', type: ids.int });
      expect(btf.type(ids.vol!).kind).toBe('volatile');
      expect(btf.type(ids.cst!).kind).toBe('const');
      expect(btf.type(ids.res!).kind).toBe('restrict');
      expect(btf.type(ids.proto!)).toMatchObject({
        kind: 'func_proto',
        returnType: ids.int,
        params: [{ name: 'x' }],
        variadic: true,
      });
      expect(btf.type(ids.fn!)).toMatchObject({ kind: 'func', name: 'f', linkage: 'static', type: ids.proto });
      expect(btf.type(ids.v!)).toMatchObject({ kind: 'var', linkage: 'global' });
      expect(btf.type(ids.sec!)).toMatchObject({
        kind: 'datasec',
        name: '.data',
        vars: [{ type: ids.v, offset: 0, size: 4 }],
      });
      expect(btf.type(ids.flt!)).toMatchObject({ kind: 'float', size: 8 });
      expect(btf.type(ids.tag!)).toMatchObject({ kind: 'decl_tag', name: 'bpf_kfunc', componentIdx: -1 });
      expect(btf.type(ids.ttag!)).toMatchObject({ kind: 'type_tag', name: 'user' });
      expect(btf.type(ids.e64!)).toMatchObject({
        kind: 'enum64',
        values: [{ name: 'HUGE', value: 0xffff_ffff_ffffn }],
      });
    });
  }

  for (const hdrLen of [26, 32]) {
    it(`reads a blob whose header is ${hdrLen} bytes (${hdrLen % 4 ? 'unaligned records' : 'aligned records'})`, () => {
      const { bytes, ids } = everyKind();
      const grown = new Uint8Array(bytes.length + hdrLen - 24);
      grown.set(bytes.subarray(0, 24));
      grown.set(bytes.subarray(24), hdrLen);
      new DataView(grown.buffer).setUint32(4, hdrLen, true);
      const btf = Btf.parse(grown);
      expect(btf.header.hdrLen).toBe(hdrLen);
      expect([...btf.types()]).toEqual([...Btf.parse(bytes).types()]);
      expect(btf.typeByName('pair', 'struct').id).toBe(ids.st);
    });
  }

  it('finds types by name and kind, several per name', () => {
    const b = new BtfBuilder();
    const s = b.addStruct('thing', 0, []);
    const t = b.addTypedef('thing', s);
    const f = b.addFwd('thing');
    const btf = Btf.parse(b.build());
    expect(btf.idsByName('thing')).toEqual([s, t, f]);
    expect(btf.typeByName('thing', 'typedef').id).toBe(t);
    expect(btf.typesByName('thing', 'struct').map((x) => x.id)).toEqual([s]);
    expect(btf.findType('thing', 'union')).toBeUndefined();
    expect(() => btf.typeByName('nothing', 'struct')).toThrow(new BtfNotFoundError("no struct named 'nothing' in BTF"));
  });

  it('answers every by-name query like a full scan, over many queries', () => {
    const btf = Btf.parse(dataBlob('vmlinux-6.1'));
    const byName = new Map<string, number[]>();
    for (let id = 1; id <= btf.maxTypeId; id++) {
      const name = btf.nameOf(id);
      if (name) byName.set(name, [...(byName.get(name) ?? []), id]);
    }
    const names = [...byName.keys()].filter((_, i) => i % 701 === 0);
    expect(names.length).toBeGreaterThan(64); // enough queries to exercise long runs of lookups
    // Twice: the first round refines the chains of name families it walks, the second uses them.
    for (let round = 0; round < 2; round++) {
      for (const name of [...names, 'sk_buff', 'no_such_type_anywhere', 'trace_event_raw_nope']) {
        expect(btf.idsByName(name)).toEqual(byName.get(name) ?? []);
      }
    }
  });

  it('finds a split blob’s types whose names live in the base’s string section', () => {
    const mod = nfConntrack61();
    const own = [...mod.types(undefined, { includeBase: false })].filter((t) => t.name && t.nameOff < mod.firstStrOff);
    expect(own.length).toBeGreaterThan(0);
    for (const t of own.slice(0, 20)) expect(mod.idsByName(t.name)).toContain(t.id);
  });

  it('parses blobs with more records than their size suggests (all 12-byte records) and finds them by name', () => {
    const b = new BtfBuilder();
    const int = b.addInt('int', 4, { signed: true });
    const ids: number[] = [];
    for (let i = 0; i < 2000; i++) ids.push(i % 2 === 0 ? b.addTypedef(`t${i}`, int) : b.addPtr(ids[i - 1]!));
    const btf = Btf.parse(b.build());
    expect(btf.typeCount).toBe(2001);
    for (let i = 0; i < 2000; i += 2) {
      expect(btf.idsByName(`t${i}`)).toEqual([ids[i]]);
      expect(btf.type(ids[i + 1]!)).toMatchObject({ kind: 'ptr', type: ids[i] });
    }
  });

  it('iterates all types or one kind', () => {
    const { bytes } = everyKind();
    const btf = Btf.parse(bytes);
    expect([...btf.types()].length).toBe(20);
    expect([...btf.types('int')].map((t) => t.name)).toEqual(['int', 'unsigned int']);
  });

  it('parses split BTF on top of a base: ids and string offsets continue', () => {
    const base = Btf.parse(everyKind().bytes);
    const b = new BtfBuilder({ base });
    const st = b.addStruct('mod_state', 4, [{ name: 'count', type: 1, bitOffset: 0 }]);
    const split = Btf.parse(b.build(), { base });
    expect(st).toBe(21);
    expect(split.firstTypeId).toBe(21);
    expect(split.type(st)).toMatchObject({ name: 'mod_state', members: [{ name: 'count', type: 1 }] });
    expect(split.type(1).name).toBe('int');
    expect(split.typeByName('pair', 'struct').id).toBe(5);
    expect([...split.types(undefined, { includeBase: false })].map((t) => t.id)).toEqual([21]);
  });

  it('rejects truncated records, unknown kinds and out-of-range references with offsets', () => {
    const { bytes } = everyKind();
    expect(() => Btf.parse(bytes.subarray(0, bytes.length - 200))).toThrow(BtfError);
    const unknown = bytes.slice();
    unknown[24 + 7] = 30; // kind byte of type 1
    expect(() => Btf.parse(unknown)).toThrow(/unknown BTF kind 30 \(type id 1\).*offset 28/);
    const b = new BtfBuilder();
    b.addPtr(99);
    const btf = Btf.parse(b.build());
    expect(() => btf.type(1)).toThrow(/reference to type id 99 beyond the last type 1.*offset 32/);
    expect(() => btf.type(2)).toThrow(BtfNotFoundError);
  });

  it('rejects counts larger than the blob instead of allocating for them', () => {
    const b = new BtfBuilder();
    b.addStruct('s', 4, []);
    const bytes = b.build();
    new DataView(bytes.buffer).setUint32(28, 0x0400ffff, true); // STRUCT with vlen 65535
    expect(() => Btf.parse(bytes)).toThrow(/type id 1 \(struct\) runs past the type section.*offset 24/);
  });

  it('rejects name offsets outside the string section', () => {
    const b = new BtfBuilder();
    b.addInt('int', 4);
    const bytes = b.build();
    new DataView(bytes.buffer).setUint32(24, 5000, true);
    expect(() => Btf.parse(bytes).type(1)).toThrow(/name offset 5000 is outside the string section.*offset 24/);
  });
});
