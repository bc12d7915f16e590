/**
 * A streaming pcapng writer: one Section Header Block, Interface Description Blocks as
 * interfaces are met, then Enhanced Packet Blocks, batched into one write per 64 KiB (or per
 * {@link PcapngWriter.flush}). Blocks, and their options' text, are encoded straight into the
 * batch buffer, so a packet costs no allocation.
 */
import { writeSync } from 'node:fs';
import type { ByteSink } from '../writer.js';
import { ByteOut, putLe32 } from './bytes.js';
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
  /**
   * The batch. Between {@link beginPacket} and {@link endPacket} option text is written into it
   * directly ({@link beginOption}, {@link endOption}).
   */
  readonly out: ByteOut;
  private readonly interfaces: Uint8Array[] = [];
  /** Interfaces whose description a previous flush wrote (the rest are in the buffer). */
  private flushedInterfaces = 0;
  private readonly threshold: number;
  /** Where the open block and option start (-1: none open). */
  private blockStart = -1;
  private optionStart = -1;
  /** Where the open block's packet bytes (with padding) end: options follow. */
  private dataEnd = -1;
  /** Packets written so far. */
  packets = 0;

  /** @param sink a file descriptor (stdout is 1) or a sink such as a rotating file. */
  constructor(
    private sink: number | ByteSink,
    private readonly section: SectionInfo,
    o: PcapngWriterOptions = {},
  ) {
    this.threshold = o.threshold ?? 1 << 16;
    this.out = new ByteOut(Math.max(this.threshold * 2, 1 << 12));
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
    this.beginPacket(p.iface, p.tsHi, p.tsLo, p.data, p.origLen);
    if (p.comment !== undefined && p.comment !== '') {
      this.beginOption(OPTION.comment);
      this.out.text(p.comment);
      this.endOption();
    }
    if (p.custom !== undefined && p.custom !== '') {
      this.beginOption(OPTION.customString);
      this.out.text(p.custom);
      this.endOption();
    }
    this.endPacket();
  }

  /**
   * Opens an Enhanced Packet Block: its header and packet bytes. Options follow
   * ({@link beginOption}), then {@link endPacket}; nothing else may be written in between.
   */
  beginPacket(iface: number, tsHi: number, tsLo: number, data: Uint8Array, origLen: number): void {
    if (iface < 0 || iface >= this.interfaces.length) throw new RangeError(`no pcapng interface ${iface}`);
    this.reserve(32 + data.length);
    const out = this.out;
    const b = out.buf;
    const start = out.len;
    putLe32(b, start, BLOCK.enhancedPacket);
    putLe32(b, start + 8, iface);
    putLe32(b, start + 12, tsHi);
    putLe32(b, start + 16, tsLo);
    putLe32(b, start + 20, data.length);
    putLe32(b, start + 24, Math.max(origLen, data.length));
    b.set(data, start + 28);
    let off = start + 28 + data.length;
    while (off & 3) b[off++] = 0;
    out.len = off;
    this.blockStart = start;
    this.dataEnd = off;
  }

  /**
   * Opens an option of the open packet: `opt_comment` ({@link OPTION}.comment) or pwru's custom
   * string option ({@link OPTION}.customString, its PEN written here). Its value is what is
   * written to {@link out} until {@link endOption}. (A hot path may instead write whole options
   * into {@link out} with {@link openOption} and {@link closeOption}.)
   */
  beginOption(code: number): void {
    const out = this.out;
    out.ensure(8);
    this.optionStart = out.len;
    out.len = openOption(out.buf, out.len, code);
  }

  /** Closes the open option: its length (at most 64 KiB: longer text is cut) and padding. */
  endOption(): void {
    const out = this.out;
    out.ensure(4);
    out.len = closeOption(out.buf, this.optionStart, out.len);
    this.optionStart = -1;
  }

  /** Closes the open packet (`opt_endofopt` when it has options, the lengths). */
  endPacket(): void {
    const out = this.out;
    out.ensure(8);
    const b = out.buf;
    let off = out.len;
    if (off !== this.dataEnd) {
      putLe32(b, off, 0); // opt_endofopt
      off += 4;
    }
    const start = this.blockStart;
    const total = off + 4 - start;
    putLe32(b, start + 4, total);
    putLe32(b, off, total);
    out.len = off + 4;
    this.blockStart = -1;
    this.packets++;
    if (out.len >= this.threshold) this.flush();
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
    return this.out.len;
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
    const out = this.out;
    if (out.len === 0) return;
    const bytes = out.buf.subarray(0, out.len);
    if (typeof this.sink !== 'number') {
      this.sink.write(Uint8Array.prototype.slice.call(bytes));
      out.len = 0;
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
    out.len = 0;
    this.flushedInterfaces = this.interfaces.length;
  }

  private append(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.out.buf.set(bytes, this.out.len);
    this.out.len += bytes.length;
  }

  /** Room for `n` bytes: a whole batch is written first when it would not fit. */
  private reserve(n: number): void {
    const out = this.out;
    if (out.len + n <= out.buf.length) return;
    this.flush();
    out.ensure(n);
  }
}

/**
 * Writes an option's code at `at` (and, for pwru's custom option, its PEN); returns where its
 * value starts. The length is written by {@link closeOption}.
 */
export function openOption(buf: Buffer, at: number, code: number): number {
  buf[at] = code & 255;
  buf[at + 1] = code >>> 8;
  if (code !== OPTION.customString) return at + 4;
  buf.writeUInt32LE(PWRU_PEN, at + 4);
  return at + 8;
}

/**
 * Closes the option opened at `start` whose value ends at `end` (room for 3 bytes of padding):
 * writes its length (at most 64 KiB: longer text is cut) and pads it; returns the padded end.
 */
export function closeOption(buf: Buffer, start: number, end: number): number {
  let n = end - start - 4; // the value, with the PEN of a custom option
  if (n > 0xffff) n = 0xffff; // an option holds 64 KiB at most
  buf[start + 2] = n & 255;
  buf[start + 3] = n >>> 8;
  end = start + 4 + n;
  while (end & 3) buf[end++] = 0;
  return end;
}
