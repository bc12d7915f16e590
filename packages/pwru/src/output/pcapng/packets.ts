/**
 * Small builders of IPv4/IPv6 packets with valid checksums, for tests and the benchmark: what a
 * kernel would hold for a given tuple.
 */

function checksum(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  for (let i = start; i < end; i += 2) sum += (bytes[i]! << 8) | (i + 1 < end ? bytes[i + 1]! : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** What {@link ipv4Packet} builds. */
export interface Ipv4PacketSpec {
  readonly saddr: string;
  readonly daddr: string;
  /** 6 (TCP, a SYN), 17 (UDP) or 1 (ICMP echo request). */
  readonly proto: 6 | 17 | 1;
  readonly sport?: number;
  readonly dport?: number;
  /** Payload bytes after the L4 header. */
  readonly payload?: number;
}

/** An IPv4 packet (no options) with a TCP SYN, UDP or ICMP echo header and zero payload. */
export function ipv4Packet(s: Ipv4PacketSpec): Uint8Array {
  const l4 = s.proto === 6 ? 20 : 8;
  const total = 20 + l4 + (s.payload ?? 0);
  const p = new Uint8Array(total);
  const v = new DataView(p.buffer);
  p[0] = 0x45;
  v.setUint16(2, total);
  v.setUint16(4, 0x1234);
  p[8] = 64;
  p[9] = s.proto;
  p.set(s.saddr.split('.').map(Number), 12);
  p.set(s.daddr.split('.').map(Number), 16);
  v.setUint16(10, checksum(p, 0, 20));
  if (s.proto === 1) {
    p[20] = 8; // echo request
    v.setUint16(24, 1);
    v.setUint16(26, 1);
    v.setUint16(22, checksum(p, 20, total));
    return p;
  }
  v.setUint16(20, s.sport ?? 0);
  v.setUint16(22, s.dport ?? 0);
  if (s.proto === 6) {
    v.setUint32(24, 1);
    p[32] = 5 << 4;
    p[33] = 0x02; // SYN
    v.setUint16(34, 64240);
  } else {
    v.setUint16(24, 8 + (s.payload ?? 0));
  }
  // The pseudo-header's sum, then the L4 checksum over header and payload.
  let pseudo = 0;
  for (let i = 12; i < 20; i += 2) pseudo += (p[i]! << 8) | p[i + 1]!;
  pseudo += s.proto + (total - 20);
  v.setUint16(s.proto === 6 ? 36 : 26, checksum(p, 20, total, pseudo));
  return p;
}

/** An Ethernet II frame carrying `payload` with EtherType `type` (IPv4 by default). */
export function ethernetFrame(payload: Uint8Array, type = 0x0800): Uint8Array {
  const f = new Uint8Array(14 + payload.length);
  f.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1], 0);
  new DataView(f.buffer).setUint16(12, type);
  f.set(payload, 14);
  return f;
}
