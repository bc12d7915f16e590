import type { Btf } from '../btf.js';

/**
 * An append-only byte buffer for text dumps: ASCII text, decimal numbers and names copied straight
 * from a blob's string section, so a dump decodes no strings until the very end.
 */
export class AsciiWriter {
  private buf: Uint8Array;
  private len = 0;

  constructor(capacity = 1 << 16) {
    this.buf = new Uint8Array(capacity);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.len;
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** Appends ASCII/latin1 text. */
  text(s: string): this {
    this.room(s.length);
    const b = this.buf;
    let p = this.len;
    for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
    this.len = p;
    return this;
  }

  /** Appends an unsigned or signed integer (a JS number) in decimal. */
  num(n: number): this {
    if (n < 0) {
      this.room(1);
      this.buf[this.len++] = 0x2d;
      n = -n;
    }
    if (n < 10) {
      this.room(1);
      this.buf[this.len++] = 0x30 + n;
      return this;
    }
    return this.text(String(n));
  }

  /**
   * Appends the string at a string offset of `btf` (or `fallback` when the offset is 0, or
   * `invalid` when it is outside the string section), copying the raw bytes.
   */
  name(btf: Btf, off: number, fallback: string, invalid: string): this {
    if (off === 0) return this.text(fallback);
    let owner: Btf = btf;
    while (off < owner.firstStrOff && owner.base) owner = owner.base;
    const local = off - owner.firstStrOff;
    if (local < 0 || local >= owner.header.strLen) return this.text(invalid);
    const bytes = owner.bytes;
    const start = owner.header.strStart + local;
    const end = bytes.indexOf(0, start);
    this.room(end - start);
    this.buf.set(bytes.subarray(start, end), this.len);
    this.len += end - start;
    return this;
  }

  /** The bytes written, as latin1 text; resets the writer. */
  take(): string {
    const s = Buffer.from(this.buf.buffer, this.buf.byteOffset, this.len).toString('latin1');
    this.len = 0;
    return s;
  }
}
