/**
 * A streaming pcapng writer: one Section Header Block, Interface Description Blocks as
 * interfaces are met, then Enhanced Packet Blocks, batched into one write per 64 KiB (or per
 * {@link PcapngWriter.flush}). Blocks are encoded straight into the batch buffer, so a packet
 * costs no allocation.
 */
import { writeSync } from 'node:fs';
import type { ByteSink } from '../writer.js';
import {
  BLOCK,
  encodeInterface,
  encodeSectionHeader,
  type InterfaceInfo,
  OPTION,
  PWRU_PEN,
  type SectionInfo,
} from './format.js';

/** One packet to write. */
export interface PcapngPacket {
  /** The id {@link PcapngWriter.addInterface} returned. */
  readonly iface: number;
  /** Nanoseconds since the epoch, as two 32-bit halves. */
  readonly tsHi: number;
  readonly tsLo: number;
  /** The captured bytes. */
  readonly data: Uint8Array;
  /** The packet's length on the wire (at least `data.length`). */
  readonly origLen: number;
  /** `opt_comment`: what Wireshark shows beside the packet. */
  readonly comment?: string;
  /** A pwru custom option (PEN {@link PWRU_PEN}): machine-readable text. */
  readonly custom?: string;
}

/** Options of a {@link PcapngWriter}. */
export interface PcapngWriterOptions {
  /** Bytes batched before a write (default 64 KiB). */
  readonly threshold?: number;
}

/** Writes one pcapng section to a file descriptor or a {@link ByteSink}. */
export class PcapngWriter {
  private buf: Buffer;
  private len = 0;
  private readonly interfaces: Uint8Array[] = [];
  /** Interfaces whose description a previous flush wrote (the rest are in the buffer). */
  private flushedInterfaces = 0;
  private readonly threshold: number;
  /** Packets written so far. */
  packets = 0;

  /** @param sink a file descriptor (stdout is 1) or a sink such as a rotating file. */
  constructor(
    private sink: number | ByteSink,
    private readonly section: SectionInfo,
    o: PcapngWriterOptions = {},
  ) {
    this.threshold = o.threshold ?? 1 << 16;
    this.buf = Buffer.allocUnsafe(Math.max(this.threshold * 2, 1 << 12));
    this.append(encodeSectionHeader(section));
  }

  /** Writes an Interface Description Block and returns the interface's id. */
  addInterface(info: InterfaceInfo): number {
    const idb = encodeInterface(info);
    this.interfaces.push(idb);
    this.append(idb);
    return this.interfaces.length - 1;
  }

  /** How many interfaces the section has. */
  get interfaceCount(): number {
    return this.interfaces.length;
  }

  /** Writes an Enhanced Packet Block. */
  packet(p: PcapngPacket): void {
    if (p.iface < 0 || p.iface >= this.interfaces.length) throw new RangeError(`no pcapng interface ${p.iface}`);
    const data = p.data;
    const comment = p.comment ?? '';
    const custom = p.custom ?? '';
    // Worst case: 3 bytes per UTF-16 unit, plus headers and padding.
    const need = 32 + data.length + 3 + (comment.length * 3 + 8) + (custom.length * 3 + 12) + 8;
    this.reserve(need);
    const b = this.buf;
    const start = this.len;
    b.writeUInt32LE(BLOCK.enhancedPacket, start);
    b.writeUInt32LE(p.iface, start + 8);
    b.writeUInt32LE(p.tsHi >>> 0, start + 12);
    b.writeUInt32LE(p.tsLo >>> 0, start + 16);
    b.writeUInt32LE(data.length, start + 20);
    b.writeUInt32LE(Math.max(p.origLen, data.length), start + 24);
    b.set(data, start + 28);
    let off = start + 28 + data.length;
    while (off & 3) b[off++] = 0;
    let options = false;
    if (comment !== '') {
      off = this.stringOption(off, OPTION.comment, comment, false);
      options = true;
    }
    if (custom !== '') {
      off = this.stringOption(off, OPTION.customString, custom, true);
      options = true;
    }
    if (options) {
      b.writeUInt32LE(0, off); // opt_endofopt
      off += 4;
    }
    const total = off + 4 - start;
    b.writeUInt32LE(total, start + 4);
    b.writeUInt32LE(total, off);
    this.len = off + 4;
    this.packets++;
    if (this.len >= this.threshold) this.flush();
  }

  private stringOption(off: number, code: number, text: string, pen: boolean): number {
    const b = this.buf;
    const head = pen ? 8 : 4;
    let n = writeText(b, text, off + head);
    if (n + (pen ? 4 : 0) > 0xffff) n = 0xffff - (pen ? 4 : 0); // an option holds 64 KiB at most
    if (pen) b.writeUInt32LE(PWRU_PEN, off + 4);
    b.writeUInt16LE(code, off);
    b.writeUInt16LE(n + (pen ? 4 : 0), off + 2);
    let end = off + head + n;
    while (end & 3) b[end++] = 0;
    return end;
  }

  /**
   * Continues in a new sink (a rotated file): the new file starts with the Section Header and
   * every Interface Description so far, so each file reads on its own.
   */
  restart(sink: number | ByteSink): void {
    this.flush();
    this.sink = sink;
    this.append(this.preamble());
  }

  /** Bytes buffered, not written yet. */
  get pending(): number {
    return this.len;
  }

  /**
   * What a new file must start with before the bytes of the next flush: the Section Header and
   * the Interface Descriptions written by earlier flushes (later ones are in that flush).
   */
  preamble(): Uint8Array {
    const parts = [encodeSectionHeader(this.section), ...this.interfaces.slice(0, this.flushedInterfaces)];
    return Buffer.concat(parts);
  }

  /** Writes everything buffered (whole blocks only: a sink may start a new file between flushes). */
  flush(): void {
    if (this.len === 0) return;
    const bytes = this.buf.subarray(0, this.len);
    if (typeof this.sink !== 'number') {
      this.sink.write(Uint8Array.prototype.slice.call(bytes));
      this.len = 0;
      this.flushedInterfaces = this.interfaces.length;
      return;
    }
    let off = 0;
    while (off < bytes.length) {
      try {
        off += writeSync(this.sink, bytes, off, bytes.length - off);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        throw e;
      }
    }
    this.len = 0;
    this.flushedInterfaces = this.interfaces.length;
  }

  private append(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) {
      const bigger = Buffer.allocUnsafe(n * 2);
      bigger.set(this.buf.subarray(0, this.len));
      this.buf = bigger;
    }
  }
}

const encoder = new TextEncoder();

/** Writes `text` as UTF-8 at `off` (room is reserved); returns the bytes written. */
function writeText(b: Buffer, text: string, off: number): number {
  return encoder.encodeInto(text, b.subarray(off)).written;
}
