import { describe, expect, it } from 'vitest';
import { Btf } from './btf.js';
import { BtfBuilder } from './builder.js';
import { enumMap, enumName, enumValue } from './enums.js';
import { BtfError, BtfNotFoundError } from './errors.js';
import { funcSignature } from './functions.js';
import { alignOf, resolveType, sizeOf } from './resolve.js';
import { typeName } from './type-name.js';
import { hasHostBtf, hostBtf, vmlinux61 } from '../test/fixtures.js';

describe('resolveType, sizeOf, alignOf', () => {
  it('follows typedef and qualifier chains to the underlying type', () => {
    const b = new BtfBuilder();
    const uint = b.addInt('unsigned int', 4);
    const u32 = b.addTypedef('u32', uint);
    const cv = b.addConst(b.addVolatile(u32));
    const btf = Btf.parse(b.build());
    expect(resolveType(btf, cv)).toBe(uint);
    expect(sizeOf(btf, cv)).toBe(4);
  });

  it('sizes arrays and aligns structs like C, packed structs to 1', () => {
    const b = new BtfBuilder();
    const long = b.addInt('long int', 8, { signed: true });
    const char = b.addInt('char', 1, { char: true });
    const arr = b.addArray(char, long, 3);
    const s = b.addStruct('s', 16, [
      { name: 'c', type: char, bitOffset: 0 },
      { name: 'l', type: long, bitOffset: 64 },
    ]);
    const packed = b.addStruct('p', 9, [
      { name: 'c', type: char, bitOffset: 0 },
      { name: 'l', type: long, bitOffset: 8 },
    ]);
    const btf = Btf.parse(b.build());
    expect([sizeOf(btf, arr), alignOf(btf, arr)]).toEqual([3, 1]);
    expect([sizeOf(btf, s), alignOf(btf, s)]).toEqual([16, 8]);
    expect([sizeOf(btf, packed), alignOf(btf, packed)]).toEqual([9, 1]);
  });

  it('reports typedef cycles instead of looping', () => {
    const b = new BtfBuilder();
    b.addTypedef('a', 2);
    b.addTypedef('b', 1);
    const btf = Btf.parse(b.build());
    expect(() => resolveType(btf, 1)).toThrow(BtfError);
    expect(() => sizeOf(btf, 1)).toThrow(/deeper than 32 \(a cycle\?\)/);
  });
});

describe('enums', () => {
  it('maps names to values and back, for ENUM and ENUM64', () => {
    const b = new BtfBuilder();
    b.addEnum('e', 4, [
      { name: 'A', value: 1 },
      { name: 'B', value: 0xffffffff },
    ]);
    b.addEnum64('f', 8, [{ name: 'BIG', value: 1n << 40n }]);
    const btf = Btf.parse(b.build());
    expect(enumValue(btf, 'e', 'B')).toBe(0xffffffff);
    expect(enumName(btf, 'e', -1)).toBe('B');
    expect(enumValue(btf, 'f', 'BIG')).toBe(1n << 40n);
    expect(enumName(btf, 'f', 2 ** 40)).toBe('BIG');
    expect(() => enumValue(btf, 'e', 'C')).toThrow(new BtfNotFoundError("enum e has no enumerator 'C'"));
  });

  it('reads skb_drop_reason of Debian 6.1 both ways', () => {
    const btf = vmlinux61();
    const drop = enumValue(btf, 'skb_drop_reason', 'SKB_DROP_REASON_NETFILTER_DROP');
    // Values as `bpftool btf dump` prints them for this kernel.
    expect(drop).toBe(7);
    expect(enumName(btf, 'skb_drop_reason', 1)).toBe('SKB_DROP_REASON_NOT_SPECIFIED');
    expect(enumMap(btf, 'skb_drop_reason').get(2)).toBe('SKB_DROP_REASON_NO_SOCKET');
  });
});

describe('typeName', () => {
  it('spells pointers, qualifiers, arrays and function pointers in C', () => {
    const b = new BtfBuilder();
    const int = b.addInt('int', 4, { signed: true });
    const char = b.addInt('char', 1, { char: true });
    const skb = b.addStruct('sk_buff', 0, []);
    const cptr = b.addPtr(b.addConst(skb));
    const ptrConst = b.addConst(b.addPtr(skb));
    const arr = b.addArray(char, int, 16);
    const fnptr = b.addPtr(
      b.addFuncProto(int, [
        { name: 'skb', type: b.addPtr(skb) },
        { name: 'n', type: int },
      ]),
    );
    const pp = b.addPtr(b.addPtr(char));
    const btf = Btf.parse(b.build());
    expect(typeName(btf, cptr)).toBe('const struct sk_buff *');
    expect(typeName(btf, ptrConst)).toBe('struct sk_buff * const');
    expect(typeName(btf, arr)).toBe('char[16]');
    expect(typeName(btf, fnptr)).toBe('int (*)(struct sk_buff *, int)');
    expect(typeName(btf, pp)).toBe('char **');
  });
});

describe('funcSignature', () => {
  it('gives linkage, return type and named parameters', () => {
    const btf = vmlinux61();
    const sig = funcSignature(btf, 'kfree_skb_reason');
    expect(sig.linkage).toBe('static'); // as bpftool prints it for this kernel
    expect(sig.params.map((p) => [p.position, p.name, typeName(btf, p.type)])).toEqual([
      [1, 'skb', 'struct sk_buff *'],
      [2, 'reason', 'enum skb_drop_reason'],
    ]);
    expect(typeName(btf, sig.returnType)).toBe('void');
  });

  it.skipIf(!hasHostBtf)('works on this machine for sk_skb_reason_drop or kfree_skb_reason', () => {
    const btf = hostBtf();
    const name = btf.findType('sk_skb_reason_drop', 'func') ? 'sk_skb_reason_drop' : 'kfree_skb_reason';
    expect(funcSignature(btf, name).params.some((p) => typeName(btf, p.type) === 'struct sk_buff *')).toBe(true);
  });
});
