import { describe, expect, it } from 'vitest';
import { Btf } from './btf.js';
import { BtfBuilder } from './builder.js';

/** FNV-1a over latin1 characters, the hash the name index files names under. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

describe('by-name lookup through the name index', () => {
  it('matches whole names only: prefixes, suffixes and infixes of stored names find nothing', () => {
    const b = new BtfBuilder();
    const int = b.addInt('int', 4, { signed: true });
    const skb = b.addStruct('sk_buff', 4, [{ name: 'len', type: int, bitOffset: 0 }]);
    const head = b.addStruct('sk_buff_head', 4, [{ name: 'qlen', type: int, bitOffset: 0 }]);
    const buff = b.addTypedef('buff', int);
    const btf = Btf.parse(b.build());
    expect(btf.idsByName('sk_buff')).toEqual([skb]);
    expect(btf.idsByName('sk_buff_head')).toEqual([head]);
    expect(btf.idsByName('buff')).toEqual([buff]);
    for (const part of ['sk_buf', 'k_buff', 'sk_buff_hea', 'buff_head', 'uf', 'sk_buff_head_', 'in', 'nt']) {
      expect(btf.idsByName(part)).toEqual([]);
    }
  });

  it('finds nothing for names absent from the string section or stored only as member names', () => {
    const b = new BtfBuilder();
    const int = b.addInt('int', 4, { signed: true });
    b.addStruct('pair', 8, [{ name: 'len', type: int, bitOffset: 0 }]);
    const btf = Btf.parse(b.build());
    expect(btf.idsByName('len')).toEqual([]); // in the string section, but no type is called that
    expect(btf.idsByName('no_such_name')).toEqual([]);
    expect(btf.findType('len', 'struct')).toBeUndefined();
  });

  it('treats queries that no BTF string can equal as absent: empty, with NUL, beyond latin1', () => {
    const b = new BtfBuilder();
    b.addInt('int', 4, { signed: true });
    const cafe = b.addStruct('caf\u00e9', 0, []);
    const btf = Btf.parse(b.build());
    expect(btf.idsByName('caf\u00e9')).toEqual([cafe]); // latin1 byte 0xe9 in the string section
    expect(btf.idsByName('')).toEqual([]);
    expect(btf.idsByName('int\0')).toEqual([]);
    expect(btf.idsByName('in\0t')).toEqual([]);
    expect(btf.idsByName('int\u0100')).toEqual([]);
    expect(btf.idsByName('\u0169nt')).toEqual([]); // U+0169 & 0xff would be 'i'
  });

  it('tells apart names whose hashes collide', () => {
    expect(fnv1a('t7pfs')).toBe(fnv1a('tovja'));
    const b = new BtfBuilder();
    const int = b.addInt('int', 4, { signed: true });
    const x = b.addTypedef('t7pfs', int);
    const y = b.addTypedef('tovja', int);
    const btf = Btf.parse(b.build());
    expect(btf.idsByName('t7pfs')).toEqual([x]);
    expect(btf.idsByName('tovja')).toEqual([y]);
  });

  it('lists every type sharing a name in id order, however many queries came before', () => {
    const b = new BtfBuilder();
    const int = b.addInt('int', 4, { signed: true });
    const ids = [b.addStruct('dup', 4, []), b.addTypedef('dup', int), b.addFwd('dup', 'union')];
    for (let i = 0; i < 100; i++) b.addTypedef(`t${i}`, int);
    const btf = Btf.parse(b.build());
    for (let round = 0; round < 3; round++) {
      expect(btf.idsByName('dup')).toEqual(ids);
      for (let i = 0; i < 100; i += 7) expect(btf.idsByName(`t${i}`)).toEqual([ids[2]! + 1 + i]);
    }
  });

  it('skips a type whose name offset lies outside the string section instead of failing others', () => {
    const b = new BtfBuilder();
    const int = b.addInt('int', 4, { signed: true });
    const ok = b.addTypedef('fine', int);
    const bytes = b.build();
    const { typeStart, strLen } = Btf.parse(bytes).header;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    view.setUint32(typeStart, strLen + 100, true); // the int's name_off
    const btf = Btf.parse(bytes);
    expect(btf.idsByName('fine')).toEqual([ok]);
    expect(btf.idsByName('int')).toEqual([]);
  });
});
