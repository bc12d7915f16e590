import { describe, expect, it } from 'vitest';
import { Btf } from './btf.js';
import { BtfBuilder } from './builder.js';
import { formatRaw } from './format/raw.js';
import { everyKindBlob } from '../test/every-kind.js';
import { vmlinux61 } from '../test/fixtures.js';

describe('BtfBuilder', () => {
  it('round-trips every kind through the parser in both byte orders', () => {
    const le = Btf.parse(everyKindBlob(true).bytes);
    const be = Btf.parse(everyKindBlob(false).bytes);
    expect(be.littleEndian).toBe(false);
    expect([...be.types()]).toEqual([...le.types()]);
    expect(formatRaw(be)).toBe(formatRaw(le));
  });

  it('stores each string once and gives the empty string offset 0', () => {
    const b = new BtfBuilder();
    const a = b.addString('flows');
    expect(b.addString('flows')).toBe(a);
    expect(b.addString('')).toBe(0);
    const int = b.addInt('int', 4, { signed: true });
    b.addTypedef('int', int);
    const blob = b.build();
    const strLen = new DataView(blob.buffer).getUint32(20, true);
    expect(strLen).toBe('\0flows\0int\0'.length);
    const btf = Btf.parse(blob);
    expect(btf.str(a)).toBe('flows');
    expect(btf.idsByName('int')).toEqual([1, 2]);
  });

  it('writes split BTF whose ids and strings continue after a real base', () => {
    const base = vmlinux61();
    const b = new BtfBuilder({ base });
    const skb = base.typeByName('sk_buff', 'struct');
    const id = b.addFunc('my_probe', b.addFuncProto(0, [{ name: 'skb', type: b.addPtr(skb.id) }]));
    const split = Btf.parse(b.build(), { base });
    expect(split.type(id)).toMatchObject({ kind: 'func', name: 'my_probe' });
    const proto = split.typeOfKind(split.typeOfKind(id, 'func').type, 'func_proto');
    expect(split.type(split.typeOfKind(proto.params[0]!.type, 'ptr').type).name).toBe('sk_buff');
    expect(split.firstStrOff).toBe(base.header.strLen);
  });

  it('refuses values the format cannot hold', () => {
    const b = new BtfBuilder();
    expect(() => b.addString('a\0b')).toThrow(/NUL/);
    expect(() => b.addStruct('s', 4, [{ name: 'x', type: 1, bitOffset: 1 << 24, bitfieldSize: 1 }])).toThrow(
      RangeError,
    );
  });
});
