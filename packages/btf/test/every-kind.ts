/** A small blob holding every BTF kind and the odd corners of each (signed enums, bitfields, variadics). */
import { BtfBuilder } from '../src/builder.js';

/** Builds the blob in the given byte order; returns it and the ids by role. */
export function everyKindBlob(littleEndian = true): { bytes: Uint8Array; ids: Record<string, number> } {
  const b = new BtfBuilder({ littleEndian });
  const int = b.addInt('int', 4, { signed: true });
  const uint = b.addInt('unsigned int', 4);
  const char = b.addInt('char', 1, { char: true });
  const bool = b.addInt('_Bool', 1, { bool: true, bits: 8 });
  const ptr = b.addPtr(int);
  const arr = b.addArray(int, uint, 16);
  const st = b.addStruct('pair', 8, [
    { name: 'a', type: int, bitOffset: 0 },
    { name: 'flags', type: uint, bitOffset: 32, bitfieldSize: 3 },
    { name: 'more', type: uint, bitOffset: 35, bitfieldSize: 29 },
  ]);
  const un = b.addUnion('either', 4, [
    { name: 'i', type: int, bitOffset: 0 },
    { name: 'c', type: char, bitOffset: 0 },
  ]);
  const en = b.addEnum(
    'color',
    4,
    [
      { name: 'RED', value: -1 },
      { name: 'GREEN', value: 2 },
    ],
    { signed: true },
  );
  const uen = b.addEnum('', 4, [{ name: 'BIG_FLAG', value: 0x80000000 }]);
  const fwd = b.addFwd('later', 'union');
  const fwds = b.addFwd('later_s', 'struct');
  const td = b.addTypedef('s32', int);
  const vol = b.addVolatile(int);
  const cst = b.addConst(int);
  const res = b.addRestrict(ptr);
  const proto = b.addFuncProto(
    int,
    [
      { name: 'x', type: int },
      { name: 'fmt', type: b.addPtr(b.addConst(char)) },
    ],
    { variadic: true },
  );
  const fn = b.addFunc('f', proto, 'static');
  const gfn = b.addFunc('g', b.addFuncProto(0, []), 'global');
  const v = b.addVar('counter', int, 'global');
  const sv = b.addVar('local', st, 'static');
  const sec = b.addDatasec('.data', 12, [
    { type: v, offset: 0, size: 4 },
    { type: sv, offset: 4, size: 8 },
  ]);
  const flt = b.addFloat('double', 8);
  const tag = b.addDeclTag('bpf_kfunc', fn);
  const ptag = b.addDeclTag('param_tag', fn, 0);
  const ttag = b.addTypeTag('user', int);
  const tptr = b.addPtr(ttag);
  const e64 = b.addEnum64('big', 8, [
    { name: 'HUGE', value: 0xffff_ffff_ffffn },
    { name: 'ALL', value: 0xffff_ffff_ffff_ffffn },
  ]);
  const se64 = b.addEnum64('sbig', 8, [{ name: 'NEG', value: -5n }], { signed: true });
  return {
    bytes: b.build(),
    ids: {
      int,
      uint,
      char,
      bool,
      ptr,
      arr,
      st,
      un,
      en,
      uen,
      fwd,
      fwds,
      td,
      vol,
      cst,
      res,
      proto,
      fn,
      gfn,
      v,
      sv,
      sec,
      flt,
      tag,
      ptag,
      ttag,
      tptr,
      e64,
      se64,
    },
  };
}
