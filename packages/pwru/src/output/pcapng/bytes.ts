/**
 * Text written straight into bytes: ASCII strings byte by byte, numbers two digits at a time,
 * fragments that repeat (a function's name, a process) copied from bytes encoded once. Writing
 * an event this way costs no intermediate string or object, which is what lets
 * `--output-pcapng` keep up with the text and JSON outputs.
 *
 * The `put*` functions write at a position the caller has made room for and return the
 * position after what they wrote, so a hot loop keeps the position in a local variable;
 * {@link ByteOut} wraps them with a growing buffer.
 */

const utf8 = new TextEncoder();

/** Fragments up to this long are copied byte by byte (cheaper than `set` for short arrays). */
const SHORT_COPY = 16;

const HEX = '0123456789abcdef';

/** `00` to `ff`, two ASCII hex digits each. */
const HEX_PAIRS = Uint8Array.from({ length: 512 }, (_, i) => HEX.charCodeAt(i & 1 ? (i >> 1) & 15 : i >> 5));

/** `00` to `99`, two ASCII digits each. */
const PAIRS = Uint8Array.from({ length: 200 }, (_, i) => 48 + (i & 1 ? (i >> 1) % 10 : Math.floor((i >> 1) / 10)));

/** Most bytes {@link putUint} and {@link putHex64} write. */
export const MAX_NUMBER_BYTES = 24;

/** Writes a 32-bit little-endian word byte by byte (no bounds check or call into `Buffer`). */
export function putLe32(buf: Uint8Array, at: number, v: number): void {
  buf[at] = v;
  buf[at + 1] = v >>> 8;
  buf[at + 2] = v >>> 16;
  buf[at + 3] = v >>> 24;
}

/** Copies `b` to `at`. */
export function putBytes(buf: Uint8Array, at: number, b: Uint8Array): number {
  const n = b.length;
  if (n <= SHORT_COPY) {
    for (let i = 0; i < n; i++) buf[at + i] = b[i]!;
  } else buf.set(b, at);
  return at + n;
}

/** Writes `s` as UTF-8 (room for 3 bytes per UTF-16 unit): byte by byte while it is ASCII. */
export function putText(buf: Uint8Array, at: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return at + utf8.encodeInto(s.slice(i), buf.subarray(at)).written;
    buf[at++] = c;
  }
  return at;
}

/** Writes a 32-bit unsigned integer in decimal, zero-padded to `width` digits. */
function putU32(buf: Uint8Array, at: number, n: number, width: number): number {
  let digits =
    n < 100000
      ? n < 100
        ? n < 10
          ? 1
          : 2
        : n < 1000
          ? 3
          : n < 10000
            ? 4
            : 5
      : n < 10000000
        ? n < 1000000
          ? 6
          : 7
        : n < 100000000
          ? 8
          : n < 1000000000
            ? 9
            : 10;
  if (digits < width) digits = width;
  const end = at + digits;
  let p = end;
  // Two digits per division, from the right.
  while (digits >= 2) {
    const q = (n / 100) >>> 0;
    const pair = (n - q * 100) << 1;
    buf[--p] = PAIRS[pair + 1]!;
    buf[--p] = PAIRS[pair]!;
    n = q;
    digits -= 2;
  }
  if (digits === 1) buf[--p] = 48 + n;
  return end;
}

/**
 * Writes a number in decimal as `String(n)` would (room for {@link MAX_NUMBER_BYTES}): digit
 * by digit for a safe non-negative integer.
 */
export function putUint(buf: Uint8Array, at: number, n: number): number {
  if (n >>> 0 === n) return putU32(buf, at, n, 1);
  if (n > 0xffffffff && n <= Number.MAX_SAFE_INTEGER && Math.floor(n) === n) {
    // Two halves of at most 8 and 9 digits, each in 32-bit arithmetic.
    const hi = Math.floor(n / 1e8);
    return putU32(buf, putU32(buf, at, hi, 1), n - hi * 1e8, 8);
  }
  return putText(buf, at, String(n));
}

/** Writes a 32-bit value in lowercase hex, without leading zeros unless `width` asks for them. */
export function putHex32(buf: Uint8Array, at: number, v: number, width: number): number {
  v >>>= 0;
  let digits = 1;
  while (digits < 8 && v >>> (digits * 4) !== 0) digits++;
  if (digits < width) digits = width;
  const end = at + digits;
  let p = end;
  while (digits >= 2) {
    const pair = (v & 255) << 1;
    buf[--p] = HEX_PAIRS[pair + 1]!;
    buf[--p] = HEX_PAIRS[pair]!;
    v >>>= 8;
    digits -= 2;
  }
  if (digits === 1) buf[--p] = HEX_PAIRS[((v & 15) << 1) + 1]!;
  return end;
}

/** Writes `0x` and a 64-bit value given as halves, as `hex64` prints it. */
export function putHex64(buf: Uint8Array, at: number, hi: number, lo: number): number {
  buf[at] = 48;
  buf[at + 1] = 120;
  return hi === 0 ? putHex32(buf, at + 2, lo, 1) : putHex32(buf, putHex32(buf, at + 2, hi, 1), lo, 8);
}

/** Bytes written so far into a buffer that grows (never flushes) as text is appended. */
export class ByteOut {
  /** The buffer; replaced by a bigger one when it fills. */
  buf: Buffer;
  /** Bytes written. */
  len = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Makes room for `n` more bytes (the `put*` functions may then write up to `len + n`). */
  ensure(n: number): void {
    if (this.len + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    bigger.set(this.buf.subarray(0, this.len));
    this.buf = bigger;
  }

  /** Appends bytes encoded earlier (see {@link utf8Bytes}). */
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.len = putBytes(this.buf, this.len, b);
  }

  /** Appends a string as UTF-8. */
  text(s: string): void {
    this.ensure(s.length * 3);
    this.len = putText(this.buf, this.len, s);
  }

  /** Appends one ASCII character code. */
  char(c: number): void {
    this.ensure(1);
    this.buf[this.len++] = c;
  }

  /** Appends a number in decimal as `String(n)` would. */
  uint(n: number): void {
    this.ensure(MAX_NUMBER_BYTES);
    this.len = putUint(this.buf, this.len, n);
  }

  /** Appends a 32-bit value in lowercase hex, zero-padded to `width` digits. */
  hex32(v: number, width = 1): void {
    this.ensure(8);
    this.len = putHex32(this.buf, this.len, v, width);
  }

  /** Appends `0x` and a 64-bit value given as halves, as `hex64` prints it. */
  hex64(hi: number, lo: number): void {
    this.ensure(18);
    this.len = putHex64(this.buf, this.len, hi, lo);
  }
}

/** A string's UTF-8 bytes, for fragments encoded once and copied into every event. */
export function utf8Bytes(s: string): Uint8Array {
  return utf8.encode(s);
}
