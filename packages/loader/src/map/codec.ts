import { type Btf, resolveType } from 'btf-parser';
import { BpfError } from '../errors.js';

/**
 * How a map key or value of a fixed size turns into a JavaScript value and back. Integers up to
 * 32 bits are numbers, 64-bit ones bigints; structs are plain objects of their fields.
 */
export interface Codec<T> {
  /** Size in bytes. */
  readonly size: number;
  /** Writes `value` at `offset` of `view` (little-endian, as the kernel stores it on x86-64). */
  write(view: DataView, offset: number, value: T): void;
  /** Reads the value at `offset` of `view`. */
  read(view: DataView, offset: number): T;
}

/** The JavaScript type a codec produces. */
export type CodecValue<C> = C extends Codec<infer T> ? T : never;

/** A codec could not be built (a bitfield, an unsized type) or a value did not fit it. */
export class CodecError extends BpfError {}

function int<T extends number | bigint>(
  size: number,
  read: (v: DataView, o: number) => T,
  write: (v: DataView, o: number, x: T) => void,
): Codec<T> {
  return { size, read, write };
}

/** Unsigned 8-bit integer. */
export const u8: Codec<number> = int(
  1,
  (v, o) => v.getUint8(o),
  (v, o, x) => v.setUint8(o, x),
);
/** Signed 8-bit integer. */
export const i8: Codec<number> = int(
  1,
  (v, o) => v.getInt8(o),
  (v, o, x) => v.setInt8(o, x),
);
/** Unsigned 16-bit integer. */
export const u16: Codec<number> = int(
  2,
  (v, o) => v.getUint16(o, true),
  (v, o, x) => v.setUint16(o, x, true),
);
/** Signed 16-bit integer. */
export const i16: Codec<number> = int(
  2,
  (v, o) => v.getInt16(o, true),
  (v, o, x) => v.setInt16(o, x, true),
);
/** Unsigned 32-bit integer (`__u32`, most map keys). */
export const u32: Codec<number> = int(
  4,
  (v, o) => v.getUint32(o, true),
  (v, o, x) => v.setUint32(o, x, true),
);
/** Signed 32-bit integer. */
export const i32: Codec<number> = int(
  4,
  (v, o) => v.getInt32(o, true),
  (v, o, x) => v.setInt32(o, x, true),
);
/** Unsigned 64-bit integer as a bigint (`__u64` counters). */
export const u64: Codec<bigint> = int(
  8,
  (v, o) => v.getBigUint64(o, true),
  (v, o, x) => v.setBigUint64(o, BigInt(x), true),
);
/** Signed 64-bit integer as a bigint. */
export const i64: Codec<bigint> = int(
  8,
  (v, o) => v.getBigInt64(o, true),
  (v, o, x) => v.setBigInt64(o, BigInt(x), true),
);

/** `size` raw bytes (a copy on read). */
export function bytes(size: number): Codec<Uint8Array> {
  return {
    size,
    read: (v, o) => new Uint8Array(v.buffer.slice(v.byteOffset + o, v.byteOffset + o + size)),
    write: (v, o, x) => {
      if (x.length !== size) throw new CodecError(`expected ${size} bytes, got ${x.length}`);
      new Uint8Array(v.buffer, v.byteOffset + o, size).set(x);
    },
  };
}

/** `count` elements of `element`, packed. */
export function array<T>(element: Codec<T>, count: number): Codec<T[]> {
  return {
    size: element.size * count,
    read: (v, o) => Array.from({ length: count }, (_, i) => element.read(v, o + i * element.size)),
    write: (v, o, x) => {
      if (x.length !== count) throw new CodecError(`expected ${count} elements, got ${x.length}`);
      x.forEach((e, i) => element.write(v, o + i * element.size, e));
    },
  };
}

/** A struct field at an explicit byte offset. */
export type PlacedField = readonly [offset: number, codec: Codec<unknown>];

/** The object a {@link struct} codec produces. */
export type StructValue<F> = {
  [K in keyof F]: F[K] extends Codec<infer T> ? T : F[K] extends readonly [number, Codec<infer T>] ? T : never;
};

/**
 * A C struct. Fields are either codecs, laid out in order at their natural alignment (like C on
 * x86-64), or `[offset, codec]` pairs at explicit offsets; `size` defaults to the end of the last
 * field rounded up to the largest alignment.
 *
 * @example
 *   const stats = struct({ packets: u64, bytes: u64 });           // 16 bytes
 *   const key = struct({ ifindex: [0, u32], proto: [4, u8] }, 8);  // explicit layout
 */
export function struct<F extends Record<string, Codec<unknown> | PlacedField>>(
  fields: F,
  size?: number,
): Codec<StructValue<F>> {
  const placed: Array<[string, number, Codec<unknown>]> = [];
  let end = 0;
  let maxAlign = 1;
  for (const [name, f] of Object.entries(fields)) {
    if (Array.isArray(f)) {
      const [offset, codec] = f as PlacedField;
      placed.push([name, offset, codec]);
      end = Math.max(end, offset + codec.size);
    } else {
      const codec = f as Codec<unknown>;
      const align = naturalAlign(codec.size);
      maxAlign = Math.max(maxAlign, align);
      const offset = Math.ceil(end / align) * align;
      placed.push([name, offset, codec]);
      end = offset + codec.size;
    }
  }
  const total = size ?? Math.ceil(end / maxAlign) * maxAlign;
  if (total < end) throw new CodecError(`struct size ${total} is smaller than its fields (${end} bytes)`);
  return {
    size: total,
    read: (v, o) => {
      const out: Record<string, unknown> = {};
      for (const [name, offset, codec] of placed) out[name] = codec.read(v, o + offset);
      return out as StructValue<F>;
    },
    write: (v, o, x) => {
      new Uint8Array(v.buffer, v.byteOffset + o, total).fill(0);
      for (const [name, offset, codec] of placed) {
        const value = (x as Record<string, unknown>)[name];
        if (value === undefined) throw new CodecError(`missing field '${name}'`);
        codec.write(v, o + offset, value);
      }
    },
  };
}

function naturalAlign(size: number): number {
  return size >= 8 ? 8 : size >= 4 ? 4 : size >= 2 ? 2 : 1;
}

/**
 * The codec of BTF type `id` (through typedefs and qualifiers): integers and enums by size and
 * sign, pointers as u64, arrays, structs by member offsets (nested as objects); unions and
 * anything else as raw bytes. Bitfields are refused.
 *
 * @example
 *   const value = codecFromBtf(btf, btf.typeByName('flow_stats', 'struct').id);
 */
export function codecFromBtf(btf: Btf, id: number): Codec<unknown> {
  const t = btf.type(resolveType(btf, id));
  switch (t.kind) {
    case 'int':
    case 'enum':
    case 'enum64': {
      const signed = t.signed;
      const c = (
        { 1: signed ? i8 : u8, 2: signed ? i16 : u16, 4: signed ? i32 : u32, 8: signed ? i64 : u64 } as Record<
          number,
          Codec<unknown>
        >
      )[t.size];
      if (!c) throw new CodecError(`${t.kind} '${t.name}' of ${t.size} bytes has no codec`);
      return c;
    }
    case 'ptr':
      return u64;
    case 'array':
      return array(codecFromBtf(btf, t.type), t.nelems);
    case 'struct': {
      const fields: Record<string, PlacedField> = {};
      for (const [i, m] of t.members.entries()) {
        if (m.bitfieldSize !== 0 || m.bitOffset % 8 !== 0) {
          throw new CodecError(
            `struct ${t.name || '(anonymous)'} member '${m.name}' is a bitfield; declare the layout with struct()`,
          );
        }
        fields[m.name || `_${i}`] = [m.bitOffset / 8, codecFromBtf(btf, m.type)];
      }
      return struct(fields, t.size);
    }
    case 'union':
      return bytes(t.size);
    default:
      throw new CodecError(`BTF type ${id} (${t.kind} '${t.name}') has no size a map can hold`);
  }
}

/** Encodes `value` into a new byte array. */
export function encode<T>(codec: Codec<T>, value: T): Uint8Array {
  const out = new Uint8Array(codec.size);
  codec.write(new DataView(out.buffer), 0, value);
  return out;
}

/** Decodes `data` (at least `codec.size` bytes). */
export function decode<T>(codec: Codec<T>, data: Uint8Array): T {
  if (data.length < codec.size) throw new CodecError(`expected ${codec.size} bytes, got ${data.length}`);
  return codec.read(new DataView(data.buffer, data.byteOffset, data.byteLength), 0);
}
