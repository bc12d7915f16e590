/**
 * The pcapng file format (draft-ietf-opsawg-pcapng): the block and option codes pwru writes, and
 * encoders for the blocks written once per file (Section Header, Interface Description).
 * Everything is little-endian; every block and option is padded to 32 bits.
 */

/** Block types. */
export const BLOCK = {
  sectionHeader: 0x0a0d0d0a,
  interfaceDescription: 0x00000001,
  enhancedPacket: 0x00000006,
} as const;

/** The Section Header Block's byte-order magic. */
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** Option codes. */
export const OPTION = {
  endOfOpt: 0,
  /** `opt_comment`: UTF-8 text, shown by Wireshark as the packet comment (`frame.comment`). */
  comment: 1,
  /** `opt_custom`, UTF-8 string, may be copied to new files: the PEN, then the text. */
  customString: 2988,
  shbHardware: 2,
  shbOs: 3,
  shbUserAppl: 4,
  ifName: 2,
  ifDescription: 3,
  /** One byte: the time unit is 10^-n seconds. */
  ifTsresol: 9,
} as const;

/** Link types (tcpdump.org LINKTYPE_*) pwru captures with. */
export const LINKTYPE = {
  /** The bytes start at the skb's MAC header (`mac_len != 0`). */
  ethernet: 1,
  /** The bytes start at the skb's network header (no MAC header): IPv4 or IPv6 by its version. */
  raw: 101,
} as const;

/** A link type pwru writes. */
export type LinkType = (typeof LINKTYPE)[keyof typeof LINKTYPE];

/**
 * The Private Enterprise Number that opens pwru's custom options. pwru has no IANA-registered
 * number, so it uses 32473, which RFC 5612 reserves for documentation and examples: no real
 * organisation owns it, so no other tool's options can be mistaken for pwru's.
 */
export const PWRU_PEN = 32473;

const utf8 = new TextEncoder();

/** Bytes `n` takes once padded to 32 bits. */
export function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** One encoded option (code, length, value, padding). */
export function encodeOption(code: number, value: Uint8Array): Uint8Array {
  if (value.length > 0xffff) throw new RangeError(`a pcapng option holds at most 65535 bytes, not ${value.length}`);
  const out = new Uint8Array(4 + pad4(value.length));
  const v = new DataView(out.buffer);
  v.setUint16(0, code, true);
  v.setUint16(2, value.length, true);
  out.set(value, 4);
  return out;
}

function block(type: number, body: Uint8Array, options: readonly Uint8Array[]): Uint8Array {
  const optLen = options.length === 0 ? 0 : options.reduce((n, o) => n + o.length, 0) + 4; // + opt_endofopt
  const total = 12 + body.length + optLen;
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  v.setUint32(0, type, true);
  v.setUint32(4, total, true);
  out.set(body, 8);
  let off = 8 + body.length;
  for (const o of options) {
    out.set(o, off);
    off += o.length;
  }
  // opt_endofopt is four zero bytes, already there.
  v.setUint32(total - 4, total, true);
  return out;
}

/** What a Section Header Block says about the capture. */
export interface SectionInfo {
  /** `shb_userappl`, e.g. `pwru 1.0.0`. */
  readonly application: string;
  /** `shb_os`, e.g. `Linux 6.18.0`. */
  readonly os?: string;
  /** `shb_hardware`, e.g. `x86_64`. */
  readonly hardware?: string;
}

/** A Section Header Block (version 1.0, section length unknown). */
export function encodeSectionHeader(info: SectionInfo): Uint8Array {
  const body = new Uint8Array(16);
  const v = new DataView(body.buffer);
  v.setUint32(0, BYTE_ORDER_MAGIC, true);
  v.setUint16(4, 1, true);
  v.setUint16(6, 0, true);
  v.setInt32(8, -1, true); // section length -1 (u64 all ones): not given
  v.setInt32(12, -1, true);
  const options = [encodeOption(OPTION.shbUserAppl, utf8.encode(info.application))];
  if (info.os) options.push(encodeOption(OPTION.shbOs, utf8.encode(info.os)));
  if (info.hardware) options.push(encodeOption(OPTION.shbHardware, utf8.encode(info.hardware)));
  return block(BLOCK.sectionHeader, body, options);
}

/** One capture interface: in pwru, one device of one network namespace, seen with one link type. */
export interface InterfaceInfo {
  readonly linkType: LinkType;
  /** The most bytes any packet on it carries. */
  readonly snaplen: number;
  /** `if_name`, e.g. `veth0`, or `ifindex 7` when the name is unknown. */
  readonly name: string;
  /** `if_description`, e.g. `netns 4026531840, ifindex 7`. */
  readonly description?: string;
}

/** An Interface Description Block with nanosecond timestamps (`if_tsresol` = 9). */
export function encodeInterface(info: InterfaceInfo): Uint8Array {
  const body = new Uint8Array(8);
  const v = new DataView(body.buffer);
  v.setUint16(0, info.linkType, true);
  v.setUint32(4, info.snaplen, true);
  const options = [encodeOption(OPTION.ifName, utf8.encode(info.name))];
  if (info.description) options.push(encodeOption(OPTION.ifDescription, utf8.encode(info.description)));
  options.push(encodeOption(OPTION.ifTsresol, Uint8Array.of(9)));
  return block(BLOCK.interfaceDescription, body, options);
}
