/** A fixed-size integer or byte-array field of a kernel ABI struct. */
export interface LayoutField {
  /** Byte offset within the struct. */
  readonly offset: number;
  /** Size in bytes (1, 2, 4, 8, or a char array length). */
  readonly size: number;
  /** Whether the field is a char/byte array rather than an integer. */
  readonly bytes?: boolean;
  /** Member path in the kernel's BTF (`link_create.kprobe_multi.cnt`); anonymous members are searched through. */
  readonly path: string;
}

/** A kernel ABI struct layout: its BTF name, the size we pass, and named fields. */
export interface Layout<K extends string = string> {
  /** BTF type this layout mirrors, e.g. `union bpf_attr`. */
  readonly btfType: string;
  /** Bytes handed to the kernel (the end of the last field we know). */
  readonly size: number;
  /** Fields by our name. */
  readonly fields: Readonly<Record<K, LayoutField>>;
}

type FieldSpec =
  | readonly [path: string, offset: number, size: number]
  | readonly [path: string, offset: number, size: number, kind: 'bytes'];

/** Declares a layout; `size` defaults to the end of the last field rounded up to 8. */
export function defineLayout<K extends string>(
  btfType: string,
  fields: Record<K, FieldSpec>,
  size?: number,
): Layout<K> {
  const out = {} as Record<K, LayoutField>;
  let end = 0;
  for (const key of Object.keys(fields) as K[]) {
    const [path, offset, sz, kind] = fields[key] as [string, number, number, string | undefined];
    out[key] = kind === 'bytes' ? { path, offset, size: sz, bytes: true } : { path, offset, size: sz };
    end = Math.max(end, offset + sz);
  }
  return { btfType, size: size ?? Math.ceil(end / 8) * 8, fields: out };
}

/** A value for a field: integers (number or bigint) or bytes/strings for char arrays. */
export type FieldValue = number | bigint | string | Uint8Array | undefined;

const latin1 = new TextEncoder();

/** Writes one field at `base` in `view`. */
export function writeField(view: DataView, base: number, f: LayoutField, value: FieldValue): void {
  if (value === undefined) return;
  const o = base + f.offset;
  if (f.bytes) {
    const src = typeof value === 'string' ? latin1.encode(value) : (value as Uint8Array);
    const n = Math.min(src.length, f.size);
    for (let i = 0; i < n; i++) view.setUint8(o + i, src[i]!);
    return;
  }
  switch (f.size) {
    case 1:
      view.setUint8(o, Number(value) & 0xff);
      return;
    case 2:
      view.setUint16(o, Number(value) & 0xffff, true);
      return;
    case 4:
      view.setUint32(o, Number(value) >>> 0, true);
      return;
    case 8:
      if (typeof value === 'bigint') view.setBigUint64(o, BigInt.asUintN(64, value), true);
      else {
        const n = Number(value);
        if (n < 0) view.setBigUint64(o, BigInt.asUintN(64, BigInt(n)), true);
        else {
          view.setUint32(o, n >>> 0, true);
          view.setUint32(o + 4, Math.floor(n / 0x1_0000_0000), true);
        }
      }
      return;
    default:
      throw new RangeError(`field ${f.path}: unsupported size ${f.size}`);
  }
}

/** Writes several fields of a layout. */
export function writeFields<K extends string>(
  view: DataView,
  layout: Layout<K>,
  values: Partial<Record<K, FieldValue>>,
  base = 0,
): void {
  for (const key of Object.keys(values) as K[]) {
    writeField(view, base, layout.fields[key], values[key]);
  }
}

/** Reads an integer field as a number (u64 fields are exact up to 2^53). */
export function readNumber(view: DataView, f: LayoutField, base = 0): number {
  const o = base + f.offset;
  switch (f.size) {
    case 1:
      return view.getUint8(o);
    case 2:
      return view.getUint16(o, true);
    case 4:
      return view.getUint32(o, true);
    case 8:
      return view.getUint32(o, true) + view.getUint32(o + 4, true) * 0x1_0000_0000;
    default:
      throw new RangeError(`field ${f.path}: not an integer`);
  }
}

/** Reads a u64 field exactly. */
export function readBigInt(view: DataView, f: LayoutField, base = 0): bigint {
  return view.getBigUint64(base + f.offset, true);
}

/** Reads a NUL-terminated char array field. */
export function readString(view: DataView, f: LayoutField, base = 0): string {
  let s = '';
  for (let i = 0; i < f.size; i++) {
    const c = view.getUint8(base + f.offset + i);
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}
