import { resolveType, sizeOf, type Btf } from 'btf-parser';
import { ObjectError } from './parse.js';

/** A JavaScript value of a BTF type: numbers for ints up to 32 bits, bigints above, objects for structs. */
export type BtfValue = number | bigint | boolean | string | BtfValue[] | { [field: string]: BtfValue } | Uint8Array;

/** Reads and writes values of one BTF type in little-endian bytes. */
export interface BtfCodec {
  /** Size in bytes. */
  readonly size: number;
  decode(bytes: Uint8Array, offset?: number): BtfValue;
  encode(value: BtfValue, bytes: Uint8Array, offset?: number): void;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The codec of a BTF type: integers and enums (numbers, bigints from 8 bytes on), pointers
 * (bigint addresses), `char[N]` (strings), other arrays (arrays), structs and unions (objects
 * keyed by member name; bitfields included), anything else (raw bytes).
 */
export function btfCodec(btf: Btf, id: number, depth = 0): BtfCodec {
  if (depth > 32) throw new ObjectError('BTF types nest deeper than 32 levels');
  const t = btf.type(resolveType(btf, id));
  const size = t.kind === 'void' ? 0 : sizeOf(btf, t.id);
  const raw: BtfCodec = {
    size,
    decode: (b, o = 0) => b.slice(o, o + size),
    encode: (v, b, o = 0) => {
      if (!(v instanceof Uint8Array) || v.length !== size) throw new ObjectError(`expected ${size} bytes`);
      b.set(v, o);
    },
  };
  const integer = (signed: boolean): BtfCodec => ({
    size,
    decode: (b, o = 0) => {
      const v = view(b);
      switch (size) {
        case 1:
          return signed ? v.getInt8(o) : v.getUint8(o);
        case 2:
          return signed ? v.getInt16(o, true) : v.getUint16(o, true);
        case 4:
          return signed ? v.getInt32(o, true) : v.getUint32(o, true);
        case 8:
          return signed ? v.getBigInt64(o, true) : v.getBigUint64(o, true);
        default:
          return b.slice(o, o + size);
      }
    },
    encode: (x, b, o = 0) => {
      const v = view(b);
      const n = typeof x === 'boolean' ? (x ? 1 : 0) : x;
      if (typeof n !== 'number' && typeof n !== 'bigint')
        throw new ObjectError(`expected a number for a ${size}-byte integer`);
      switch (size) {
        case 1:
          v.setUint8(o, Number(n) & 0xff);
          return;
        case 2:
          v.setUint16(o, Number(n) & 0xffff, true);
          return;
        case 4:
          v.setUint32(o, Number(n) >>> 0, true);
          return;
        case 8:
          v.setBigUint64(o, BigInt.asUintN(64, BigInt(n)), true);
          return;
        default:
          throw new ObjectError(`cannot encode a ${size}-byte integer`);
      }
    },
  });
  switch (t.kind) {
    case 'int':
      return integer(t.signed);
    case 'enum':
    case 'enum64':
      return integer(t.signed);
    case 'ptr':
      return integer(false);
    case 'float':
      return size === 8 || size === 4
        ? {
            size,
            decode: (b, o = 0) => (size === 8 ? view(b).getFloat64(o, true) : view(b).getFloat32(o, true)),
            encode: (x, b, o = 0) =>
              size === 8 ? view(b).setFloat64(o, Number(x), true) : view(b).setFloat32(o, Number(x), true),
          }
        : raw;
    case 'array': {
      const elem = btf.type(resolveType(btf, t.type));
      if (
        elem.kind === 'int' &&
        elem.size === 1 &&
        (elem.name === 'char' || elem.name === 'signed char' || elem.name === 'unsigned char')
      ) {
        return {
          size,
          decode: (b, o = 0) => {
            const s = b.subarray(o, o + size);
            const end = s.indexOf(0);
            return new TextDecoder().decode(end < 0 ? s : s.subarray(0, end));
          },
          encode: (x, b, o = 0) => {
            const s = new TextEncoder().encode(String(x));
            if (s.length > size) throw new ObjectError(`"${String(x)}" does not fit in char[${size}]`);
            b.fill(0, o, o + size);
            b.set(s, o);
          },
        };
      }
      const ec = btfCodec(btf, t.type, depth + 1);
      return {
        size,
        decode: (b, o = 0) => Array.from({ length: t.nelems }, (_, i) => ec.decode(b, o + i * ec.size)),
        encode: (x, b, o = 0) => {
          if (!Array.isArray(x) || x.length !== t.nelems) throw new ObjectError(`expected an array of ${t.nelems}`);
          x.forEach((e, i) => ec.encode(e, b, o + i * ec.size));
        },
      };
    }
    case 'struct':
    case 'union': {
      const fields = t.members.map((m, i) => ({
        name: m.name || `_${i}`,
        byte: Math.floor(m.bitOffset / 8),
        bitOffset: m.bitOffset,
        bits: m.bitfieldSize,
        codec: m.bitfieldSize ? undefined : btfCodec(btf, m.type, depth + 1),
      }));
      return {
        size,
        decode: (b, o = 0) => {
          const out: Record<string, BtfValue> = {};
          for (const f of fields) {
            if (f.codec) out[f.name] = f.codec.decode(b, o + f.byte);
            else {
              let v = 0n;
              for (let i = 0; i < f.bits; i++) {
                const bit = f.bitOffset + i;
                if (b[o + (bit >> 3)]! & (1 << (bit & 7))) v |= 1n << BigInt(i);
              }
              out[f.name] = f.bits > 32 ? v : Number(v);
            }
          }
          return out;
        },
        encode: (x, b, o = 0) => {
          if (typeof x !== 'object' || x === null || Array.isArray(x) || x instanceof Uint8Array)
            throw new ObjectError('expected an object');
          const rec = x as Record<string, BtfValue>;
          b.fill(0, o, o + size);
          for (const f of fields) {
            const v = rec[f.name];
            if (v === undefined) continue;
            if (f.codec) f.codec.encode(v, b, o + f.byte);
            else {
              const n = BigInt(v as number | bigint);
              for (let i = 0; i < f.bits; i++) {
                const bit = f.bitOffset + i;
                if ((n >> BigInt(i)) & 1n) b[o + (bit >> 3)]! |= 1 << (bit & 7);
              }
            }
          }
        },
      };
    }
    default:
      return raw;
  }
}

/** The TypeScript type a {@link btfCodec} value has, as source text. */
export function tsTypeOf(btf: Btf, id: number, depth = 0): string {
  if (depth > 32) return 'Uint8Array';
  const t = btf.type(resolveType(btf, id));
  switch (t.kind) {
    case 'int':
    case 'enum':
    case 'enum64':
      return sizeOf(btf, t.id) === 8 ? 'bigint' : sizeOf(btf, t.id) <= 4 ? 'number' : 'Uint8Array';
    case 'ptr':
      return 'bigint';
    case 'float':
      return 'number';
    case 'array': {
      const elem = btf.type(resolveType(btf, t.type));
      if (elem.kind === 'int' && elem.size === 1 && /char$/.test(elem.name)) return 'string';
      return `${tsTypeOf(btf, t.type, depth + 1)}[]`;
    }
    case 'struct':
    case 'union':
      return `{ ${t.members.map((m, i) => `${JSON.stringify(m.name || `_${i}`)}: ${m.bitfieldSize ? (m.bitfieldSize > 32 ? 'bigint' : 'number') : tsTypeOf(btf, m.type, depth + 1)}`).join('; ')} }`;
    default:
      return 'Uint8Array';
  }
}
