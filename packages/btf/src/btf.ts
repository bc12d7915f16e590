import { BtfError, BtfNotFoundError } from './errors.js';
import { parseHeader, type BtfHeader } from './header.js';
import { BtfKind, KIND_NAMES, MAX_KIND, kindNumber, type BtfKindName } from './kinds.js';
import { NameIndex, NameTable, baseNameKey, prefixKeyAt } from './name-index.js';
import type { BtfMember, BtfType, BtfTypeByKind, DatasecVar, Enum64Value, EnumValue, FuncParam } from './types.js';

/** Options for {@link Btf.parse}. */
export interface ParseOptions {
  /**
   * Base BTF for split BTF (a kernel module's BTF on top of vmlinux): type ids and string offsets
   * of the parsed blob continue after the base's.
   */
  base?: Btf;
}

/** Options for iterating types. */
export interface IterateOptions {
  /** Include the base BTF's types when this is split BTF (default true). */
  includeBase?: boolean;
}

/**
 * Per kind number (0..31): bytes after the 12-byte common header that do not depend on vlen, or -1
 * for kinds that do not exist (0 and everything above {@link MAX_KIND}).
 */
const FIXED_EXTRA = new Int8Array(32).fill(-1);
/** Per kind number: bytes after the common header for each of the record's vlen entries. */
const VLEN_EXTRA = new Uint8Array(32);
for (let kind = 1; kind <= MAX_KIND; kind++) {
  switch (kind) {
    case BtfKind.INT:
    case BtfKind.VAR:
    case BtfKind.DECL_TAG:
      FIXED_EXTRA[kind] = 4;
      break;
    case BtfKind.ARRAY:
      FIXED_EXTRA[kind] = 12;
      break;
    case BtfKind.STRUCT:
    case BtfKind.UNION:
    case BtfKind.DATASEC:
    case BtfKind.ENUM64:
      FIXED_EXTRA[kind] = 0;
      VLEN_EXTRA[kind] = 12;
      break;
    case BtfKind.ENUM:
    case BtfKind.FUNC_PROTO:
      FIXED_EXTRA[kind] = 0;
      VLEN_EXTRA[kind] = 8;
      break;
    default:
      FIXED_EXTRA[kind] = 0;
  }
}

const LINKAGES = ['static', 'global', 'extern'] as const;

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A parsed BTF blob. The raw bytes are kept; parsing makes one pass that records where each type
 * starts and files each named type under a key of its first name bytes (the by-name index, see
 * `NameIndex`). Types are decoded on demand and cached; no name is decoded until asked for. Names
 * are sliced as latin1 (BTF names are ASCII identifiers).
 */
export class Btf {
  /** The blob as given. */
  readonly bytes: Uint8Array;
  /** The parsed header. */
  readonly header: BtfHeader;
  /** Base BTF when this is split BTF. */
  readonly base: Btf | undefined;
  /** First type id owned by this blob (1, or the base's next id for split BTF). */
  readonly firstTypeId: number;
  /** Number of types in this blob (not counting the base's or void). */
  readonly typeCount: number;
  /** Highest valid type id (including the base's ids for split BTF). */
  readonly maxTypeId: number;
  /** First string offset owned by this blob (0, or the base's string section length). */
  readonly firstStrOff: number;

  /** @internal */ readonly view: DataView;
  /** @internal */ readonly le: boolean;
  /** @internal Word view of the blob when it is little-endian and 4-byte aligned (the fast path). */
  readonly u32: Uint32Array | undefined;
  /** @internal Absolute byte offset of each own type record. */
  readonly offsets: Uint32Array;
  private readonly buf: Buffer;
  private cache: (BtfType | undefined)[] | undefined;
  private readonly index: NameIndex;

  private constructor(bytes: Uint8Array, base: Btf | undefined) {
    this.bytes = bytes;
    this.base = base;
    this.header = parseHeader(bytes);
    this.le = this.header.littleEndian;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.u32 =
      this.le && HOST_LE && bytes.byteOffset % 4 === 0 && this.header.typeStart % 4 === 0
        ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2)
        : undefined;
    this.firstTypeId = base ? base.maxTypeId + 1 : 1;
    this.maxTypeId = this.firstTypeId - 1; // until the types are scanned
    this.firstStrOff = base ? base.firstStrOff + base.header.strLen : 0;
    if (base && base.header.littleEndian !== this.le) {
      throw new BtfError('split BTF and its base have different byte orders', 0);
    }
    const { strStart, strLen } = this.header;
    if (strLen === 0 && !base) throw new BtfError('string section is empty', 16);
    if (strLen > 0 && bytes[strStart + strLen - 1] !== 0) {
      throw new BtfError('string section does not end with a NUL byte', strStart + strLen - 1);
    }
    if (!base && bytes[strStart] !== 0) {
      throw new BtfError(
        'string section does not start with the empty string (split BTF of a module? give its base, e.g. /sys/kernel/btf/vmlinux)',
        strStart,
      );
    }
    // Room for a record of 24 bytes on average (25 in vmlinux); the scan grows it when needed.
    const expected = Math.ceil(this.header.typeLen / 24);
    const names = new NameTable(expected, expected);
    this.offsets = this.scanTypes(names);
    this.typeCount = this.offsets.length;
    names.trim(this.typeCount);
    this.index = new NameIndex(this, names);
    this.maxTypeId = this.firstTypeId + this.typeCount - 1;
  }

  /** Parses a BTF blob (`/sys/kernel/btf/vmlinux`, a `.BTF` section, or module BTF with `base`). */
  static parse(bytes: Uint8Array, options: ParseOptions = {}): Btf {
    return new Btf(bytes, options.base);
  }

  /** True when the blob is little-endian. */
  get littleEndian(): boolean {
    return this.le;
  }

  /**
   * The one pass over the type records: checks each record's kind and extent, records where it
   * starts, and files a named type in `names` under its name's key. The name work costs little
   * here: the walk from record to record is a chain of dependent loads the CPU waits on anyway.
   */
  private scanTypes(names: NameTable): Uint32Array {
    const { typeStart, typeLen, strStart, strLen } = this.header;
    const end = typeStart + typeLen;
    let offsets = new Uint32Array(names.next.length - 1);
    let n = 0;
    let pos = typeStart;
    const u32 = this.u32;
    const view = this.view;
    const le = this.le;
    const own = this.bytes;
    const firstStrOff = this.firstStrOff;
    const { heads, shift } = names;
    let { next, tags } = names;
    while (pos < end) {
      if (pos + 12 > end) throw new BtfError(`truncated type record (type id ${this.firstTypeId + n})`, pos);
      const info = u32 !== undefined ? u32[(pos + 4) >>> 2]! : view.getUint32(pos + 4, le);
      const kind = (info >>> 24) & 0x1f;
      const fixed = FIXED_EXTRA[kind]!;
      if (fixed < 0) throw new BtfError(`unknown BTF kind ${kind} (type id ${this.firstTypeId + n})`, pos + 4);
      const after = pos + 12 + fixed + VLEN_EXTRA[kind]! * (info & 0xffff);
      if (after > end) {
        throw new BtfError(`type id ${this.firstTypeId + n} (${KIND_NAMES[kind]}) runs past the type section`, pos);
      }
      if (n === offsets.length) {
        // More records than expected: room for the most there can be (12 bytes each).
        const grown = new Uint32Array(Math.floor(typeLen / 12));
        grown.set(offsets);
        offsets = grown;
        names.grow(grown.length);
        ({ next, tags } = names);
      }
      offsets[n++] = pos; // n is now the type's 1-based link in `names`
      const nameOff = u32 !== undefined ? u32[pos >>> 2]! : view.getUint32(pos, le);
      if (nameOff !== 0) {
        const local = nameOff - firstStrOff;
        if (local >= 0 && local < strLen) {
          const at = strStart + local;
          if (own[at] !== 0) {
            const key = prefixKeyAt(own, view, at);
            tags[n] = key;
            const slot = key >>> shift;
            next[n] = heads[slot]!;
            heads[slot] = n;
          }
        } else if (local < 0) {
          // Split BTF: the name is in a base's string section.
          const key = baseNameKey(this, nameOff);
          if (key !== undefined) names.add(n, key);
        } // else a corrupt offset: the type has no name to find it by (decoding it throws)
      }
      pos = after;
    }
    return n + (n >>> 3) < offsets.length ? offsets.slice(0, n) : offsets.subarray(0, n);
  }

  // ---- raw access -------------------------------------------------------------------------------

  /** @internal The 32-bit word at a 4-byte aligned byte offset, in the blob's byte order. */
  word(p: number): number {
    const u = this.u32;
    return u !== undefined ? u[p >>> 2]! : this.view.getUint32(p, this.le);
  }

  /** @internal The Btf (this or a base) that owns `id`; throws when out of range. */
  owner(id: number): Btf {
    if (id >= this.firstTypeId) {
      if (id > this.maxTypeId || id !== Math.floor(id)) {
        throw new BtfNotFoundError(`no BTF type with id ${id} (ids go up to ${this.maxTypeId})`);
      }
      return this;
    }
    if (this.base) return this.base.owner(id);
    if (id === 0) return this;
    throw new BtfNotFoundError(`no BTF type with id ${id} (ids go up to ${this.maxTypeId})`);
  }

  /**
   * Byte offset, within the bytes this BTF was parsed from, of the record of type `id` (one of this
   * BTF's own types, not its base's): for tools that patch raw BTF in place, as an object loader
   * does to a `DATASEC`'s size and variable offsets before handing the BTF to the kernel.
   */
  recordOffset(id: number): number {
    return this.offsets[id - this.firstTypeId]!;
  }

  /** Numeric kind (`BtfKind.*`) of a type without decoding it; 0 for void. */
  kindOf(id: number): number {
    if (id === 0) return 0;
    const o = this.owner(id);
    return (o.word(o.recordOffset(id) + 4) >>> 24) & 0x1f;
  }

  /** Kind name of a type without decoding it. */
  kindNameOf(id: number): BtfKindName {
    return KIND_NAMES[this.kindOf(id)]!;
  }

  /** Name of a type without decoding it (`''` for anonymous types and void). */
  nameOf(id: number): string {
    if (id === 0) return '';
    const o = this.owner(id);
    return o.str(o.word(o.recordOffset(id)));
  }

  /** @internal Raw name offset of a type. */
  nameOffOf(id: number): number {
    if (id === 0) return 0;
    const o = this.owner(id);
    return o.word(o.recordOffset(id));
  }

  /** @internal The `size`/`type` word of a type record. */
  sizeOrTypeOf(id: number): number {
    const o = this.owner(id);
    return o.word(o.recordOffset(id) + 8);
  }

  /** @internal `vlen` of a type record. */
  vlenOf(id: number): number {
    const o = this.owner(id);
    return o.word(o.recordOffset(id) + 4) & 0xffff;
  }

  /**
   * The string at a string-section offset (split BTF: offsets below `firstStrOff` are the base's).
   * Throws a `BtfError` for an offset outside the string section.
   */
  str(off: number): string {
    if (off < this.firstStrOff) return this.base!.str(off);
    const local = off - this.firstStrOff;
    const { strStart, strLen } = this.header;
    if (local >= strLen) {
      throw new BtfError(`string offset ${off} is outside the string section (${this.firstStrOff + strLen} bytes)`);
    }
    const start = strStart + local;
    if (this.bytes[start] === 0) return '';
    const end = this.bytes.indexOf(0, start);
    return this.buf.toString('latin1', start, end);
  }

  /** @internal Absolute position of an own string, or -1 when the offset belongs to the base. */
  strPos(off: number): number {
    if (off < this.firstStrOff) return -1;
    const local = off - this.firstStrOff;
    if (local >= this.header.strLen) throw new BtfError(`string offset ${off} is outside the string section`);
    return this.header.strStart + local;
  }

  // ---- decoding ---------------------------------------------------------------------------------

  /** The decoded type with this id (0 is void). Decoded once and cached. */
  type(id: number): BtfType {
    const o = this.owner(id);
    if (o !== this) return o.type(id);
    if (id === 0) return { id: 0, kind: 'void', name: '', nameOff: 0, kindFlag: false };
    const rel = id - this.firstTypeId;
    const cache = (this.cache ??= new Array<BtfType | undefined>(this.typeCount));
    let t = cache[rel];
    if (t === undefined) {
      t = this.decode(id, this.offsets[rel]!);
      cache[rel] = t;
    }
    return t;
  }

  /** The decoded type with this id, checked to be of `kind`; throws `BtfNotFoundError` otherwise. */
  typeOfKind<K extends BtfKindName>(id: number, kind: K): BtfTypeByKind[K] {
    const t = this.type(id);
    if (t.kind !== kind) {
      throw new BtfNotFoundError(`BTF type ${id} ${describe(t)} is a ${t.kind}, not a ${kind}`);
    }
    return t as BtfTypeByKind[K];
  }

  private ref(id: number, at: number): number {
    if (id > this.maxTypeId) {
      throw new BtfError(`reference to type id ${id} beyond the last type ${this.maxTypeId}`, at);
    }
    return id;
  }

  private name(off: number, at: number): string {
    try {
      return this.str(off);
    } catch (e) {
      if (e instanceof BtfError) throw new BtfError(`name offset ${off} is outside the string section`, at);
      throw e;
    }
  }

  private decode(id: number, p: number): BtfType {
    const v = this.view;
    const le = this.le;
    const nameOff = v.getUint32(p, le);
    const info = v.getUint32(p + 4, le);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const kindFlag = info >>> 31 === 1;
    const st = v.getUint32(p + 8, le);
    const name = this.name(nameOff, p);
    const q = p + 12;
    switch (kind) {
      case BtfKind.INT: {
        const w = v.getUint32(q, le);
        const encoding = (w >>> 24) & 0x0f;
        return {
          id,
          name,
          nameOff,
          kindFlag,
          kind: 'int',
          size: st,
          bitOffset: (w >>> 16) & 0xff,
          bits: w & 0xff,
          encoding,
          signed: (encoding & 1) !== 0,
        };
      }
      case BtfKind.PTR:
      case BtfKind.TYPEDEF:
      case BtfKind.VOLATILE:
      case BtfKind.CONST:
      case BtfKind.RESTRICT:
      case BtfKind.TYPE_TAG:
        return { id, name, nameOff, kindFlag, kind: KIND_NAMES[kind] as 'ptr', type: this.ref(st, p + 8) };
      case BtfKind.ARRAY:
        return {
          id,
          name,
          nameOff,
          kindFlag,
          kind: 'array',
          type: this.ref(v.getUint32(q, le), q),
          indexType: this.ref(v.getUint32(q + 4, le), q + 4),
          nelems: v.getUint32(q + 8, le),
        };
      case BtfKind.STRUCT:
      case BtfKind.UNION: {
        const members: BtfMember[] = new Array(vlen);
        for (let i = 0; i < vlen; i++) {
          const m = q + 12 * i;
          const off = v.getUint32(m + 8, le);
          members[i] = {
            name: this.name(v.getUint32(m, le), m),
            nameOff: v.getUint32(m, le),
            type: this.ref(v.getUint32(m + 4, le), m + 4),
            bitOffset: kindFlag ? off & 0xffffff : off,
            bitfieldSize: kindFlag ? off >>> 24 : 0,
          };
        }
        return { id, name, nameOff, kindFlag, kind: kind === BtfKind.STRUCT ? 'struct' : 'union', size: st, members };
      }
      case BtfKind.ENUM: {
        const values: EnumValue[] = new Array(vlen);
        for (let i = 0; i < vlen; i++) {
          const e = q + 8 * i;
          const off = v.getUint32(e, le);
          values[i] = {
            name: this.name(off, e),
            nameOff: off,
            value: kindFlag ? v.getInt32(e + 4, le) : v.getUint32(e + 4, le),
          };
        }
        return { id, name, nameOff, kindFlag, kind: 'enum', size: st, signed: kindFlag, values };
      }
      case BtfKind.ENUM64: {
        const values: Enum64Value[] = new Array(vlen);
        for (let i = 0; i < vlen; i++) {
          const e = q + 12 * i;
          const off = v.getUint32(e, le);
          const raw = (BigInt(v.getUint32(e + 8, le)) << 32n) | BigInt(v.getUint32(e + 4, le));
          values[i] = { name: this.name(off, e), nameOff: off, value: kindFlag ? BigInt.asIntN(64, raw) : raw };
        }
        return { id, name, nameOff, kindFlag, kind: 'enum64', size: st, signed: kindFlag, values };
      }
      case BtfKind.FWD:
        return { id, name, nameOff, kindFlag, kind: 'fwd', fwdKind: kindFlag ? 'union' : 'struct' };
      case BtfKind.FUNC: {
        const linkage = LINKAGES[vlen];
        if (linkage === undefined) throw new BtfError(`FUNC type ${id} has unknown linkage ${vlen}`, p + 4);
        return { id, name, nameOff, kindFlag, kind: 'func', type: this.ref(st, p + 8), linkage };
      }
      case BtfKind.FUNC_PROTO: {
        const params: FuncParam[] = [];
        let variadic = false;
        for (let i = 0; i < vlen; i++) {
          const e = q + 8 * i;
          const off = v.getUint32(e, le);
          const type = this.ref(v.getUint32(e + 4, le), e + 4);
          if (i === vlen - 1 && off === 0 && type === 0) variadic = true;
          else params.push({ name: this.name(off, e), nameOff: off, type });
        }
        return { id, name, nameOff, kindFlag, kind: 'func_proto', returnType: this.ref(st, p + 8), params, variadic };
      }
      case BtfKind.VAR: {
        const raw = v.getUint32(q, le);
        const linkage = LINKAGES[raw];
        if (linkage === undefined) throw new BtfError(`VAR type ${id} has unknown linkage ${raw}`, q);
        return { id, name, nameOff, kindFlag, kind: 'var', type: this.ref(st, p + 8), linkage };
      }
      case BtfKind.DATASEC: {
        const vars: DatasecVar[] = new Array(vlen);
        for (let i = 0; i < vlen; i++) {
          const e = q + 12 * i;
          vars[i] = {
            type: this.ref(v.getUint32(e, le), e),
            offset: v.getUint32(e + 4, le),
            size: v.getUint32(e + 8, le),
          };
        }
        return { id, name, nameOff, kindFlag, kind: 'datasec', size: st, vars };
      }
      case BtfKind.FLOAT:
        return { id, name, nameOff, kindFlag, kind: 'float', size: st };
      case BtfKind.DECL_TAG:
        return {
          id,
          name,
          nameOff,
          kindFlag,
          kind: 'decl_tag',
          type: this.ref(st, p + 8),
          componentIdx: v.getInt32(q, le),
        };
      default:
        throw new BtfError(`unknown BTF kind ${kind} (type id ${id})`, p + 4);
    }
  }

  // ---- iteration and names ----------------------------------------------------------------------

  /**
   * Iterates decoded types in id order, optionally only one kind. Includes the base's types for
   * split BTF unless `includeBase` is false.
   */
  *types<K extends BtfKindName>(kind?: K, options: IterateOptions = {}): IterableIterator<BtfTypeByKind[K]> {
    const want = kind === undefined ? -1 : kindNumber(kind);
    const from = options.includeBase === false ? this.firstTypeId : 1;
    for (let id = from; id <= this.maxTypeId; id++) {
      if (want < 0 || this.kindOf(id) === want) yield this.type(id) as BtfTypeByKind[K];
    }
  }

  /** Ids of every type with this name (and kind, if given), in id order, base types first. */
  idsByName(name: string, kind?: BtfKindName): number[] {
    const want = kind === undefined ? -1 : kindNumber(kind);
    const out = this.base ? this.base.idsByName(name, kind) : [];
    if (name === '') return out;
    for (const id of this.index.lookup(name)) {
      if (want < 0 || this.kindOf(id) === want) out.push(id);
    }
    return out;
  }

  /**
   * Ids of every type whose name begins with `prefix` (and of this kind, if given), in id order,
   * base types first. The prefix needs at least 8 characters (`btf_trace_`, `bpf_lsm_`): such a
   * lookup reads one chain of the name index, not every type.
   */
  idsWithPrefix(prefix: string, kind?: BtfKindName): number[] {
    const want = kind === undefined ? -1 : kindNumber(kind);
    const out = this.base ? this.base.idsWithPrefix(prefix, kind) : [];
    for (const id of this.index.withPrefix(prefix)) {
      if (want < 0 || this.kindOf(id) === want) out.push(id);
    }
    return out;
  }

  /** Every type with this name (and kind, if given); several types may share a name. */
  typesByName<K extends BtfKindName>(name: string, kind?: K): BtfTypeByKind[K][] {
    return this.idsByName(name, kind).map((id) => this.type(id) as BtfTypeByKind[K]);
  }

  /** The first type with this name and kind, or undefined. */
  findType<K extends BtfKindName>(name: string, kind: K): BtfTypeByKind[K] | undefined {
    const ids = this.idsByName(name, kind);
    return ids.length > 0 ? (this.type(ids[0]!) as BtfTypeByKind[K]) : undefined;
  }

  /**
   * The first type with this name and kind, e.g. `typeByName('sk_buff', 'struct')`; throws
   * `BtfNotFoundError` when there is none.
   */
  typeByName<K extends BtfKindName>(name: string, kind: K): BtfTypeByKind[K] {
    const t = this.findType(name, kind);
    if (!t) throw new BtfNotFoundError(`no ${kind} named '${name}' in BTF`);
    return t;
  }
}

/** A short human description of a type: `struct sk_buff`, `typedef u32`, `anonymous union`. */
export function describe(t: BtfType): string {
  if (t.kind === 'void') return 'void';
  return t.name ? `${t.kind} ${t.name}` : `anonymous ${t.kind}`;
}
