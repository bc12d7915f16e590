/**
 * A reader for the pcapng pwru writes (little-endian sections of Interface Description and
 * Enhanced Packet Blocks; other blocks are skipped): the interfaces, and per packet its bytes,
 * comment and the event JSON of pwru's custom option. Lets a later tool rebuild `--output-json`
 * from a capture, and tests check captures where tshark is not installed (the test VM).
 */
import { PwruError } from '../../errors.js';
import { BLOCK, BYTE_ORDER_MAGIC, OPTION, PWRU_PEN } from './format.js';

/** An interface of the capture. */
export interface ReadInterface {
  readonly linkType: number;
  readonly snaplen: number;
  readonly name?: string;
  readonly description?: string;
}

/** A packet of the capture. */
export interface ReadPacket {
  /** Index into the section's interfaces. */
  readonly iface: number;
  /** Timestamp in the interface's units (nanoseconds for pwru's), as a bigint. */
  readonly ts: bigint;
  readonly data: Uint8Array;
  readonly origLen: number;
  readonly comment?: string;
  /** The `--output-json` object of pwru's custom option. */
  readonly event?: unknown;
}

/** One section: its interfaces and packets. */
export interface ReadSection {
  readonly interfaces: ReadInterface[];
  readonly packets: ReadPacket[];
}

const utf8 = new TextDecoder();

function options(b: Buffer, off: number, end: number, each: (code: number, value: Buffer) => void): void {
  while (off + 4 <= end) {
    const code = b.readUInt16LE(off);
    const len = b.readUInt16LE(off + 2);
    if (code === OPTION.endOfOpt) return;
    if (off + 4 + len > end) throw new PwruError('pcapng: an option runs past its block');
    each(code, b.subarray(off + 4, off + 4 + len));
    off += 4 + ((len + 3) & ~3);
  }
}

/** Reads every section of a pcapng file (sections repeat in appended or rotated files). */
export function readPcapng(bytes: Uint8Array): ReadSection[] {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sections: ReadSection[] = [];
  let cur: ReadSection | undefined;
  for (let off = 0; off < b.length; ) {
    if (off + 12 > b.length) throw new PwruError(`pcapng: a truncated block at byte ${off}`);
    const type = b.readUInt32LE(off);
    const len = b.readUInt32LE(off + 4);
    if (len < 12 || len % 4 !== 0 || off + len > b.length || b.readUInt32LE(off + len - 4) !== len)
      throw new PwruError(`pcapng: a bad block length at byte ${off}`);
    const end = off + len - 4;
    if (type === BLOCK.sectionHeader) {
      if (b.readUInt32LE(off + 8) !== BYTE_ORDER_MAGIC)
        throw new PwruError('pcapng: only little-endian sections are read');
      cur = { interfaces: [], packets: [] };
      sections.push(cur);
    } else if (!cur) {
      throw new PwruError('pcapng: the file does not start with a Section Header Block');
    } else if (type === BLOCK.interfaceDescription) {
      const iface: { linkType: number; snaplen: number; name?: string; description?: string } = {
        linkType: b.readUInt16LE(off + 8),
        snaplen: b.readUInt32LE(off + 12),
      };
      options(b, off + 16, end, (code, v) => {
        if (code === OPTION.ifName) iface.name = utf8.decode(v);
        else if (code === OPTION.ifDescription) iface.description = utf8.decode(v);
      });
      cur.interfaces.push(iface);
    } else if (type === BLOCK.enhancedPacket) {
      const capLen = b.readUInt32LE(off + 20);
      const dataEnd = off + 28 + capLen;
      if (dataEnd > end) throw new PwruError(`pcapng: packet bytes run past their block at byte ${off}`);
      const p: { iface: number; ts: bigint; data: Uint8Array; origLen: number; comment?: string; event?: unknown } = {
        iface: b.readUInt32LE(off + 8),
        ts: (BigInt(b.readUInt32LE(off + 12)) << 32n) | BigInt(b.readUInt32LE(off + 16)),
        data: Uint8Array.prototype.slice.call(b, off + 28, dataEnd),
        origLen: b.readUInt32LE(off + 24),
      };
      options(b, off + 28 + ((capLen + 3) & ~3), end, (code, v) => {
        if (code === OPTION.comment) p.comment = utf8.decode(v);
        else if (code === OPTION.customString && v.length >= 4 && v.readUInt32LE(0) === PWRU_PEN)
          p.event = JSON.parse(utf8.decode(v.subarray(4)));
      });
      cur.packets.push(p);
    }
    off += len;
  }
  return sections;
}
