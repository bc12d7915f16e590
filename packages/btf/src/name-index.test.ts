import { describe, expect, it } from 'vitest';
import { Btf } from './btf.js';
import { BtfBuilder } from './builder.js';
import { hashName, hashStringAt, prefixKey, prefixKeyAt } from './name-index.js';
import { hasHostBtf, hostBtf } from '../test/fixtures.js';

/** `name` as latin1 bytes followed by a NUL, at `at` in a buffer of `size` bytes filled with 0xaa. */
function placed(name: string, at: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size).fill(0xaa);
  bytes.set(Buffer.from(name, 'latin1'), at);
  bytes[at + name.length] = 0;
  return bytes;
}

/** A copy of `bytes` starting at an odd byte offset of its buffer, so no aligned word view fits. */
function misaligned(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + 1).subarray(1);
  out.set(bytes);
  return out;
}

describe('the name hash', () => {
  it('hashes a string in place exactly as it hashes the same query, at any length, alignment or closeness to the end', () => {
    const names = ['a', 'ab', 'abc', 'abcd', 'abcde', 'sk_buff', 'net_device', 'caf\u00e9', '\u0080\u00ff\u0001x'];
    for (let len = 1; len <= 13; len++) names.push('xyz_0123456789'.slice(0, len));
    for (const name of names) {
      const want = hashName(name);
      for (let at = 0; at < 4; at++) {
        // Bytes after the NUL (0xaa here) are not part of the name; nor is anything past the end.
        const mid = placed(name, at, at + name.length + 9);
        expect(hashStringAt(mid, new DataView(mid.buffer), at)).toBe(want);
        const end = placed(name, at, at + name.length + 1);
        expect(hashStringAt(end, new DataView(end.buffer), at)).toBe(want);
      }
    }
  });

  it('keys a string in place exactly as it keys the same query: by its first eight bytes, or all of a shorter one', () => {
    const names = ['a', 'abc', 'abcd', 'abcdefg', 'abcdefgh', 'abcdefghi', 'sk_buff', 'caf\u00e9', 'trace_event_raw_x'];
    for (const name of names) {
      const want = prefixKey(name);
      for (let at = 0; at < 4; at++) {
        const mid = placed(name, at, at + name.length + 9);
        expect(prefixKeyAt(mid, new DataView(mid.buffer), at)).toBe(want);
        const end = placed(name, at, at + name.length + 1);
        expect(prefixKeyAt(end, new DataView(end.buffer), at)).toBe(want);
      }
    }
    expect(prefixKey('abcdefgh_one')).toBe(prefixKey('abcdefgh_two')); // a family shares its key
    expect(prefixKey('abcdefg')).not.toBe(prefixKey('abcdefgh')); // short names are keyed whole
    expect(prefixKey('abcdefg')).toBe(hashName('abcdefg'));
  });

  it('gives no hash to queries no BTF string can equal', () => {
    expect(hashName('')).toBeUndefined();
    expect(hashName('a\0b')).toBeUndefined();
    expect(hashName('\u0100')).toBeUndefined();
  });

  it('never gives one hash to two names of one length that differ in a single character', () => {
    // Each step is one-to-one in its word and in the state, so a one-word difference survives.
    const base = 'btf_trace_kfree_skb';
    const variants = new Set<string>();
    for (let i = 0; i < base.length; i++) {
      for (const c of 'aZ_9\u00ff') variants.add(base.slice(0, i) + c + base.slice(i + 1));
    }
    expect(new Set([...variants].map((v) => hashName(v))).size).toBe(variants.size);
  });
});

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
    expect(hashName('rnogerq')).toBe(hashName('ywqatol')); // found by a birthday search
    const b = new BtfBuilder();
    const int = b.addInt('int', 4, { signed: true });
    const x = b.addTypedef('rnogerq', int);
    const y = b.addTypedef('ywqatol', int);
    const btf = Btf.parse(b.build());
    expect(btf.idsByName('rnogerq')).toEqual([x]);
    expect(btf.idsByName('ywqatol')).toEqual([y]);
  });

  it('finds every one of thousands of names sharing table slots, and nothing for their near misses', () => {
    const b = new BtfBuilder();
    const int = b.addInt('int', 4, { signed: true });
    const ids = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const name = `f${i.toString(36)}`;
      ids.set(name, b.addFunc(name, b.addFuncProto(int, []), 'global')); // anonymous protos in between
    }
    const btf = Btf.parse(b.build());
    for (const [name, id] of ids) {
      expect(btf.idsByName(name)).toEqual([id]);
      expect(btf.idsByName(`${name}_`)).toEqual([]);
    }
  });

  it('finds names that end the blob, whatever their length, in aligned and misaligned blobs of either byte order', () => {
    for (const littleEndian of [true, false]) {
      for (let len = 1; len <= 9; len++) {
        const b = new BtfBuilder({ littleEndian });
        const int = b.addInt('int', 4, { signed: true });
        const name = 'q'.repeat(len - 1) + 'z';
        const last = b.addTypedef(name, int); // its name is the string section's last string
        const bytes = b.build();
        for (const blob of [bytes, misaligned(bytes)]) {
          const btf = Btf.parse(blob);
          expect(btf.idsByName(name)).toEqual([last]);
          expect(btf.idsByName('int')).toEqual([int]);
          expect(btf.idsByName(name.slice(1))).toEqual([]);
        }
      }
    }
  });

  it('never files anonymous types under a name', () => {
    const b = new BtfBuilder();
    const int = b.addInt('int', 4, { signed: true });
    b.addPtr(int);
    b.addStruct('', 4, [{ name: 'x', type: int, bitOffset: 0 }]);
    b.addFuncProto(int, [{ name: 'arg', type: int }]);
    const btf = Btf.parse(b.build());
    expect(btf.idsByName('')).toEqual([]);
    for (const member of ['x', 'arg']) expect(btf.idsByName(member)).toEqual([]);
    expect(btf.idsByName('int')).toEqual([int]);
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

  it('finds split BTF types named through the base, after the base’s own types of that name', () => {
    const bb = new BtfBuilder();
    const baseInt = bb.addInt('int', 4, { signed: true });
    bb.addStruct('pair', 8, []);
    const base = Btf.parse(bb.build());
    const sb = new BtfBuilder({ base });
    const ownInt = sb.addTypedef('int', baseInt); // its own 'int' string
    const viaBase = sb.addTypedef('placeholder', baseInt);
    const corrupt = sb.addTypedef('broken', baseInt);
    const bytes = sb.build();
    const parsed = Btf.parse(bytes, { base });
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // Point one name at the base's 'pair' string and another past the end of every string section.
    view.setUint32(parsed.recordOffset(viaBase), base.nameOffOf(2), true);
    view.setUint32(parsed.recordOffset(corrupt), parsed.firstStrOff + parsed.header.strLen + 3, true);
    const split = Btf.parse(bytes, { base });
    expect(split.idsByName('int')).toEqual([baseInt, ownInt]);
    expect(split.idsByName('pair')).toEqual([2, viaBase]);
    expect(split.idsByName('placeholder')).toEqual([]);
    expect(split.idsByName('broken')).toEqual([]);
    expect(base.idsByName('int')).toEqual([baseInt]);
  });

  it('finds every member of a large name family, with duplicates in id order, before and after the family is refined', () => {
    const b = new BtfBuilder();
    const int = b.addInt('int', 4, { signed: true });
    const ids = new Map<string, number[]>();
    for (let i = 0; i < 200; i++) {
      const name = `trace_event_raw_${i}`; // 200 names sharing their first eight bytes
      const id = b.addStruct(name, 0, []);
      ids.set(name, i % 50 === 0 ? [id, b.addTypedef(name, id)] : [id]);
      b.addPtr(int);
    }
    const btf = Btf.parse(b.build());
    for (let round = 0; round < 2; round++) {
      for (const [name, want] of ids) expect(btf.idsByName(name)).toEqual(want);
      for (const miss of ['trace_ev', 'trace_event_raw_', 'trace_event_raw_200', 'trace_event_raw_1x']) {
        expect(btf.idsByName(miss)).toEqual([]);
      }
    }
  });

  it('tells apart family members whose whole-name hashes collide once the family is refined', () => {
    expect(hashName('family__yzsnnnw')).toBe(hashName('family__wwdbnui')); // found by a birthday search
    const b = new BtfBuilder();
    const int = b.addInt('int', 4, { signed: true });
    for (let i = 0; i < 40; i++) b.addTypedef(`family__${i}`, int);
    const x = b.addTypedef('family__yzsnnnw', int);
    const y = b.addTypedef('family__wwdbnui', int);
    const btf = Btf.parse(b.build());
    expect(btf.idsByName('family__0')).toEqual([2]); // walks the whole family and refines it
    expect(btf.idsByName('family__yzsnnnw')).toEqual([x]);
    expect(btf.idsByName('family__wwdbnui')).toEqual([y]);
    expect(btf.idsByName('family__39')).toEqual([y - 2]);
  });
});

describe('Btf.idsWithPrefix', () => {
  it('finds every name of a family sharing eight bytes or more, by kind, in id order, base first', () => {
    const b = new BtfBuilder();
    const int = b.addInt('int', 4);
    const t1 = b.addTypedef('btf_trace_one', int);
    b.addStruct('btf_trace_struct', 0, []);
    b.addTypedef('btf_trac', int); // the eight bytes, not the whole prefix
    b.addTypedef('btf_tracx_other', int);
    const t2 = b.addTypedef('btf_trace_two', int);
    const base = Btf.parse(b.build());
    expect(base.idsWithPrefix('btf_trace_', 'typedef')).toEqual([t1, t2]);
    expect(base.idsWithPrefix('btf_trace_').length).toBe(3);
    const m = new BtfBuilder({ base });
    const t3 = m.addTypedef('btf_trace_mod', int);
    const mod = Btf.parse(m.build(), { base });
    expect(mod.idsWithPrefix('btf_trace_', 'typedef')).toEqual([t1, t2, t3]);
    expect(mod.idsWithPrefix('no_such_prefix')).toEqual([]);
  });

  it('refuses a prefix shorter than the eight bytes names are filed by', () => {
    const btf = Btf.parse(new BtfBuilder().build());
    expect(() => btf.idsWithPrefix('btf_tra')).toThrow(RangeError);
  });

  it.skipIf(!hasHostBtf)('agrees with a walk over every type of this kernel', () => {
    const btf = hostBtf();
    const want: number[] = [];
    for (let id = 1; id <= btf.maxTypeId; id++)
      if (btf.kindNameOf(id) === 'typedef' && btf.nameOf(id).startsWith('btf_trace_')) want.push(id);
    expect(want.length).toBeGreaterThan(100);
    expect(btf.idsWithPrefix('btf_trace_', 'typedef')).toEqual(want);
  });
});
