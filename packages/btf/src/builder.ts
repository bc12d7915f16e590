import type { Btf } from './btf.js';
import { BTF_HEADER_MIN_LEN, BTF_MAGIC } from './header.js';
import { BtfKind } from './kinds.js';
import type { FuncLinkage, VarLinkage } from './types.js';

/** A struct/union member for {@link BtfBuilder.addStruct}. */
export interface BuilderMember {
  readonly name: string;
  readonly type: number;
  /** Offset in bits from the start of the struct. */
  readonly bitOffset: number;
  /** Bitfield width; omit or 0 for an ordinary member. */
  readonly bitfieldSize?: number;
}

/** A function parameter for {@link BtfBuilder.addFuncProto}. */
export interface BuilderParam {
  readonly name: string;
  readonly type: number;
}

/** Options for {@link BtfBuilder}. */
export interface BuilderOptions {
  /** Build split BTF on top of this base: ids and string offsets continue after it. */
  readonly base?: Btf;
  /** Byte order of the blob (default little-endian). */
  readonly littleEndian?: boolean;
}

const LINKAGE: Record<FuncLinkage | VarLinkage, number> = { static: 0, global: 1, extern: 2 };

/**
 * Builds BTF blobs: types plus a deduplicated string table, for a program's `func_info`/`line_info`
 * and map key/value types. Each `add*` returns the new type id.
 *
 * ```ts
 * const b = new BtfBuilder();
 * const u32 = b.addInt('unsigned int', 4);
 * const proto = b.addFuncProto(u32, [{ name: 'ctx', type: b.addPtr(0) }]);
 * b.addFunc('prog', proto, 'global');
 * const blob = b.build();
 * ```
 */
export class BtfBuilder {
  private readonly words: number[] = [];
  private readonly strings = new Map<string, number>([['', 0]]);
  private readonly stringParts: string[] = [''];
  private strLen = 1;
  private nextId: number;
  private readonly strBase: number;
  private readonly le: boolean;

  constructor(options: BuilderOptions = {}) {
    const base = options.base;
    this.nextId = base ? base.maxTypeId + 1 : 1;
    this.strBase = base ? base.firstStrOff + base.header.strLen : 0;
    this.le = options.littleEndian ?? true;
    if (base) {
      // Split BTF string sections start with their own empty string too.
      this.strings.set('', 0);
    }
  }

  /** Adds a string (once) and returns its offset in the string section. `''` is offset 0. */
  addString(s: string): number {
    let off = this.strings.get(s);
    if (off === undefined) {
      if (s.includes('\0')) throw new TypeError('BTF strings cannot contain NUL');
      off = this.strBase + this.strLen;
      this.strings.set(s, off);
      this.stringParts.push(s);
      this.strLen += Buffer.byteLength(s, 'latin1') + 1;
    }
    return off;
  }

  private add(
    name: string,
    kind: number,
    vlen: number,
    kindFlag: boolean,
    sizeOrType: number,
    extra: number[],
  ): number {
    if (vlen > 0xffff) throw new RangeError(`too many members/params (${vlen}, at most 65535)`);
    this.words.push(this.addString(name), ((kindFlag ? 1 : 0) << 31) | (kind << 24) | vlen, sizeOrType, ...extra);
    return this.nextId++;
  }

  /** `BTF_KIND_INT`. Encoding: `signed`, `char` or `bool` (default none). */
  addInt(
    name: string,
    size: number,
    options: { signed?: boolean; char?: boolean; bool?: boolean; bits?: number } = {},
  ): number {
    const enc = (options.signed ? 1 : 0) | (options.char ? 2 : 0) | (options.bool ? 4 : 0);
    return this.add(name, BtfKind.INT, 0, false, size, [(enc << 24) | (options.bits ?? size * 8)]);
  }

  /** `BTF_KIND_PTR` to `type` (0 = `void *`). */
  addPtr(type: number): number {
    return this.add('', BtfKind.PTR, 0, false, type, []);
  }

  /** `BTF_KIND_CONST`. */
  addConst(type: number): number {
    return this.add('', BtfKind.CONST, 0, false, type, []);
  }

  /** `BTF_KIND_VOLATILE`. */
  addVolatile(type: number): number {
    return this.add('', BtfKind.VOLATILE, 0, false, type, []);
  }

  /** `BTF_KIND_RESTRICT`. */
  addRestrict(type: number): number {
    return this.add('', BtfKind.RESTRICT, 0, false, type, []);
  }

  /** `BTF_KIND_TYPEDEF`. */
  addTypedef(name: string, type: number): number {
    return this.add(name, BtfKind.TYPEDEF, 0, false, type, []);
  }

  /** `BTF_KIND_TYPE_TAG`. */
  addTypeTag(tag: string, type: number): number {
    return this.add(tag, BtfKind.TYPE_TAG, 0, false, type, []);
  }

  /** `BTF_KIND_ARRAY` of `nelems` elements of `type`, indexed by `indexType`. */
  addArray(type: number, indexType: number, nelems: number): number {
    return this.add('', BtfKind.ARRAY, 0, false, 0, [type, indexType, nelems]);
  }

  private composite(kind: number, name: string, size: number, members: readonly BuilderMember[]): number {
    const bitfields = members.some((m) => (m.bitfieldSize ?? 0) !== 0);
    const extra: number[] = [];
    for (const m of members) {
      const bits = m.bitfieldSize ?? 0;
      if (bitfields && (m.bitOffset > 0xffffff || bits > 0xff))
        throw new RangeError(`member '${m.name}' offset or width too large`);
      extra.push(this.addString(m.name), m.type, bitfields ? ((bits << 24) | m.bitOffset) >>> 0 : m.bitOffset);
    }
    return this.add(name, kind, members.length, bitfields, size, extra);
  }

  /** `BTF_KIND_STRUCT` (kind_flag is set when any member is a bitfield). */
  addStruct(name: string, size: number, members: readonly BuilderMember[]): number {
    return this.composite(BtfKind.STRUCT, name, size, members);
  }

  /** `BTF_KIND_UNION`. */
  addUnion(name: string, size: number, members: readonly BuilderMember[]): number {
    return this.composite(BtfKind.UNION, name, size, members);
  }

  /** `BTF_KIND_ENUM` with 32-bit values. */
  addEnum(
    name: string,
    size: number,
    values: readonly { name: string; value: number }[],
    options: { signed?: boolean } = {},
  ): number {
    const extra: number[] = [];
    for (const v of values) extra.push(this.addString(v.name), v.value | 0);
    return this.add(name, BtfKind.ENUM, values.length, options.signed ?? false, size, extra);
  }

  /** `BTF_KIND_ENUM64` with 64-bit values. */
  addEnum64(
    name: string,
    size: number,
    values: readonly { name: string; value: bigint }[],
    options: { signed?: boolean } = {},
  ): number {
    const extra: number[] = [];
    for (const v of values) {
      const u = BigInt.asUintN(64, v.value);
      extra.push(this.addString(v.name), Number(u & 0xffffffffn), Number(u >> 32n));
    }
    return this.add(name, BtfKind.ENUM64, values.length, options.signed ?? false, size, extra);
  }

  /** `BTF_KIND_FWD` for a struct or union. */
  addFwd(name: string, fwdKind: 'struct' | 'union' = 'struct'): number {
    return this.add(name, BtfKind.FWD, 0, fwdKind === 'union', 0, []);
  }

  /** `BTF_KIND_FUNC_PROTO`; `variadic` appends the `...` marker. */
  addFuncProto(returnType: number, params: readonly BuilderParam[], options: { variadic?: boolean } = {}): number {
    const extra: number[] = [];
    for (const p of params) extra.push(this.addString(p.name), p.type);
    if (options.variadic) extra.push(0, 0);
    return this.add('', BtfKind.FUNC_PROTO, extra.length / 2, false, returnType, extra);
  }

  /** `BTF_KIND_FUNC` named `name` with prototype `proto`. */
  addFunc(name: string, proto: number, linkage: FuncLinkage = 'global'): number {
    return this.add(name, BtfKind.FUNC, LINKAGE[linkage], false, proto, []);
  }

  /** `BTF_KIND_VAR`. */
  addVar(name: string, type: number, linkage: VarLinkage = 'global'): number {
    return this.add(name, BtfKind.VAR, 0, false, type, [LINKAGE[linkage]]);
  }

  /** `BTF_KIND_DATASEC` (e.g. `.maps`, `.data`) listing variables by offset and size. */
  addDatasec(name: string, size: number, vars: readonly { type: number; offset: number; size: number }[]): number {
    const extra: number[] = [];
    for (const v of vars) extra.push(v.type, v.offset, v.size);
    return this.add(name, BtfKind.DATASEC, vars.length, false, size, extra);
  }

  /** `BTF_KIND_FLOAT`. */
  addFloat(name: string, size: number): number {
    return this.add(name, BtfKind.FLOAT, 0, false, size, []);
  }

  /** `BTF_KIND_DECL_TAG` on a type (`componentIdx` -1) or one of its members/params. */
  addDeclTag(tag: string, type: number, componentIdx = -1): number {
    return this.add(tag, BtfKind.DECL_TAG, 0, false, type, [componentIdx]);
  }

  /** Id the next added type will get. */
  get nextTypeId(): number {
    return this.nextId;
  }

  /** Serialises header, types and strings into a BTF blob. */
  build(): Uint8Array {
    const typeLen = this.words.length * 4;
    const out = new Uint8Array(BTF_HEADER_MIN_LEN + typeLen + this.strLen);
    const v = new DataView(out.buffer);
    const le = this.le;
    v.setUint16(0, BTF_MAGIC, le);
    v.setUint8(2, 1);
    v.setUint8(3, 0);
    v.setUint32(4, BTF_HEADER_MIN_LEN, le);
    v.setUint32(8, 0, le);
    v.setUint32(12, typeLen, le);
    v.setUint32(16, typeLen, le);
    v.setUint32(20, this.strLen, le);
    let p = BTF_HEADER_MIN_LEN;
    for (const w of this.words) {
      v.setUint32(p, w >>> 0, le);
      p += 4;
    }
    for (const s of this.stringParts) {
      out.set(Buffer.from(s, 'latin1'), p);
      p += Buffer.byteLength(s, 'latin1') + 1;
    }
    return out;
  }
}
