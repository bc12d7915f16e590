/**
 * The wire section of an event: what identifies one packet on the wire between machines, beyond
 * its tuple, read in the kernel beside the tuple. It feeds the cross-node timeline's join (see
 * `timeline/join.ts`), so only fields a router or a NAT leaves alone on the way go in:
 *
 * - `ip_id`: the IPv4 identification (IPv6 has none outside a fragment header);
 * - `ip_len`: the IP packet's length (IPv4 `tot_len`; IPv6 40 + `payload_len`);
 * - `seq`, `ack`: TCP's sequence and acknowledgement numbers;
 * - `data_hash`: a hash of the first bytes of the L4 payload, defined by {@link dataHash}.
 *
 * NAT rewrites addresses, ports and checksums, none of which these fields contain. The kernel
 * side stores raw header bytes and offsets (a few loads and stores and one 16-byte read per
 * event); user space turns them into these fields.
 */
import type { EventTuple } from '../event.js';

/** Most payload bytes the hash covers. */
export const WIRE_DATA_BYTES = 16;

/** Byte offsets inside the wire section (40 bytes). */
export const WIRE = {
  /** IPv4 `id` (network order); 0 for IPv6. */
  ipId: 0,
  /** IPv4 `tot_len` or IPv6 `payload_len` as in the header (network order). */
  ipLen: 2,
  /** Offset of the L4 header from the L3 header (u16); 0 when the tuple's parse stopped before it. */
  l4Off: 4,
  /** Offset of the L4 payload from the L3 header (u16); 0 when not computed. */
  payloadOff: 6,
  /** Bytes of linear data from the L3 header (`skb->tail` minus it, u32): the rest is in page fragments. */
  linear: 8,
  /** TCP's data-offset byte (header length in 32-bit words in its high nibble). */
  tcpDoff: 12,
  /** TCP sequence number (network order). */
  seq: 16,
  /** TCP acknowledgement number (network order). */
  ack: 20,
  /** The first {@link WIRE_DATA_BYTES} bytes at `payloadOff` (only the first `n` count, see {@link dataHash}). */
  data: 24,
  size: 24 + WIRE_DATA_BYTES,
} as const;

/** Decoded wire identifiers of one event (each absent when the packet does not have it). */
export interface EventWire {
  /** IPv4 identification. */
  readonly ipId?: number;
  /** The IP packet's length in bytes, headers included. */
  readonly ipLen: number;
  readonly seq?: number;
  readonly ack?: number;
  /** {@link dataHash} of the payload's first bytes, as 8 hex digits. */
  readonly dataHash?: string;
}

/**
 * FNV-1a (32-bit) of `bytes`, as 8 hex digits. `data_hash` is this hash of the first
 * `min(16, payload length)` bytes of the L4 payload: after the TCP header with its options, the
 * 8-byte UDP header, or the 8-byte ICMP/ICMPv6 header; the payload length comes from the IP
 * length, so padding is never hashed. It is absent when the payload is empty or those bytes are
 * not all in the skb's linear data (a sender's TCP data usually sits in page fragments). NAT
 * leaves payloads alone, except the IP header an ICMP error quotes.
 */
export function dataHash(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return hex8(h >>> 0);
}

/** {@link dataHash} of `n` bytes at `off`, read four at a time (the event's hot path). */
function hashAt(view: DataView, off: number, n: number): string {
  let h = 0x811c9dc5;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const w = view.getUint32(off + i, false);
    h = Math.imul(h ^ (w >>> 24), 0x01000193);
    h = Math.imul(h ^ ((w >>> 16) & 0xff), 0x01000193);
    h = Math.imul(h ^ ((w >>> 8) & 0xff), 0x01000193);
    h = Math.imul(h ^ (w & 0xff), 0x01000193);
  }
  for (; i < n; i++) h = Math.imul(h ^ view.getUint8(off + i), 0x01000193);
  return hex8(h >>> 0);
}

const HEX = '0123456789abcdef';

function hex8(h: number): string {
  let s = '';
  for (let shift = 28; shift >= 0; shift -= 4) s += HEX[(h >>> shift) & 0xf];
  return s;
}

/** A decoded wire section; every field present from construction, so all share one shape. */
class DecodedWire implements EventWire {
  ipId: number | undefined = undefined;
  seq: number | undefined = undefined;
  ack: number | undefined = undefined;
  dataHash: string | undefined = undefined;
  constructor(readonly ipLen: number) {}
}

/** Decodes the wire section at `off`, for the event's tuple; undefined when the L4 header was not reached. */
export function wireAt(view: DataView, off: number, tuple: EventTuple | undefined): EventWire | undefined {
  const l4Off = view.getUint16(off + WIRE.l4Off, true);
  if (l4Off === 0 || !tuple || (tuple.l3 !== 0x0800 && tuple.l3 !== 0x86dd)) return undefined;
  const v4 = tuple.l3 === 0x0800;
  const rawLen = view.getUint16(off + WIRE.ipLen, false);
  const w = new DecodedWire(v4 ? rawLen : 40 + rawLen);
  if (v4) w.ipId = view.getUint16(off + WIRE.ipId, false);
  const l4 = tuple.l4;
  const doff = view.getUint8(off + WIRE.tcpDoff) >> 4;
  if (l4 === 6 && doff >= 5) {
    w.seq = view.getUint32(off + WIRE.seq, false);
    w.ack = view.getUint32(off + WIRE.ack, false);
  }
  const payloadOff = view.getUint16(off + WIRE.payloadOff, true);
  const headerOk = l4 === 6 ? doff >= 5 && payloadOff === l4Off + 4 * doff : l4 === 17 || l4 === 1 || l4 === 58;
  if (headerOk && payloadOff > 0) {
    const n = Math.min(WIRE_DATA_BYTES, w.ipLen - payloadOff);
    if (n > 0 && payloadOff + n <= view.getUint32(off + WIRE.linear, true))
      w.dataHash = hashAt(view, off + WIRE.data, n);
  }
  return w;
}
