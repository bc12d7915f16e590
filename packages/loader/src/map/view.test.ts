import { BtfBuilder, Btf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { MapType } from '../sys/generated/constants.js';
import { array, bytes, CodecError, codecFromBtf, decode, encode, i32, struct, u8, u16, u32, u64 } from './codec.js';
import { BpfMap } from './map.js';
import { MapView } from './view.js';

describe('codecs', () => {
  it('lay out a declared struct like C on x86-64 (natural alignment, padded size)', () => {
    const c = struct({ proto: u8, port: u16, packets: u64 });
    expect(c.size).toBe(16);
    const b = encode(c, { proto: 6, port: 443, packets: 7n });
    expect([...b]).toEqual([6, 0, 0xbb, 0x01, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0]);
    expect(decode(c, b)).toEqual({ proto: 6, port: 443, packets: 7n });
  });

  it('take explicit offsets and size', () => {
    const c = struct({ ifindex: [0, u32], mac: [4, bytes(6)] }, 12);
    expect(c.size).toBe(12);
    expect(decode(c, encode(c, { ifindex: 3, mac: new Uint8Array([1, 2, 3, 4, 5, 6]) }))).toEqual({
      ifindex: 3,
      mac: new Uint8Array([1, 2, 3, 4, 5, 6]),
    });
  });

  it('follow a BTF struct, with nested arrays and signed integers', () => {
    const b = new BtfBuilder();
    const u32t = b.addInt('unsigned int', 4);
    const s32 = b.addInt('int', 4, { signed: true });
    const u64t = b.addInt('unsigned long long', 8);
    const arr = b.addArray(u32t, u32t, 2);
    const st = b.addStruct('flow', 24, [
      { name: 'delta', type: s32, bitOffset: 0 },
      { name: 'bytes', type: u64t, bitOffset: 64 },
      { name: 'ports', type: arr, bitOffset: 128 },
    ]);
    const btf = Btf.parse(b.build());
    const c = codecFromBtf(btf, st);
    expect(c.size).toBe(24);
    const v = { delta: -1, bytes: 1500n, ports: [80, 443] };
    expect(decode(c, encode(c, v))).toEqual(v);
  });

  it('refuse a bitfield with a pointer to struct()', () => {
    const b = new BtfBuilder();
    const u32t = b.addInt('unsigned int', 4);
    const st = b.addStruct('flags', 4, [{ name: 'a', type: u32t, bitOffset: 0, bitfieldSize: 3 }]);
    expect(() => codecFromBtf(Btf.parse(b.build()), st)).toThrow(/bitfield; declare the layout with struct\(\)/);
  });

  it('check sizes and missing fields', () => {
    expect(() => encode(array(i32, 2), [1])).toThrow(CodecError);
    expect(() => encode(struct({ a: u32 }), {} as { a: number })).toThrow("missing field 'a'");
  });
});

describe('MapView on a real hash map', () => {
  it('gets, sets, deletes and iterates typed keys and values', () => {
    const map = BpfMap.create({ type: MapType.HASH, keySize: 4, valueSize: 16, maxEntries: 8 });
    try {
      const stats = new MapView(map, u32, struct({ packets: u64, bytes: u64 }));
      stats.set(7, { packets: 1n, bytes: 60n });
      stats.set(9, { packets: 2n, bytes: 120n });
      expect(stats.get(7)).toEqual({ packets: 1n, bytes: 60n });
      expect(stats.get(8)).toBeUndefined();
      expect(new Map(stats)).toEqual(
        new Map([
          [7, { packets: 1n, bytes: 60n }],
          [9, { packets: 2n, bytes: 120n }],
        ]),
      );
      expect(stats.delete(7)).toBe(true);
      expect([...stats.keys()]).toEqual([9]);
    } finally {
      map.close();
    }
  });

  it('refuses codecs whose sizes differ from the map', () => {
    const map = BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
    try {
      expect(() => new MapView(map, u32, u32)).toThrow(InvalidArgumentError);
      expect(() => new MapView(map, u32, u32)).toThrow(/value codec is 4 bytes, value_size is 8/);
    } finally {
      map.close();
    }
  });
});
