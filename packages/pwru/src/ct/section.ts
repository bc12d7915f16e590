/**
 * The `--output-ct` section of an event: a fixed, kernel-independent layout the generated
 * program fills from `skb->_nfct` and its `struct nf_conn` (offsets from BTF, see `fields.ts`).
 */
import type { Addr64 } from '../event.js';
import { ipv4String, ipv6String } from '../output/ip.js';

/** Byte offsets of one direction's tuple inside the section (40 bytes). */
export const CT_TUPLE = {
  /** `src.u3`: 16 bytes, IPv4 in the first 4. */
  saddr: 0,
  daddr: 16,
  /** `src.u.all`: the source port (ICMP: the echo id), network order. */
  sport: 32,
  /** `dst.u.all`: the destination port (ICMP: type then code), network order. */
  dport: 34,
  /** `src.l3num`: AF_INET (2) or AF_INET6 (10). */
  l3num: 36,
  /** `dst.protonum`. */
  proto: 38,
  size: 40,
} as const;

/** Byte offsets inside the ct section (104 bytes). */
export const CT = {
  /** The `struct nf_conn *` (`_nfct` with the info bits masked off); 0 for UNTRACKED. */
  addr: 0,
  /** `nf_conn.status` (`enum ip_conntrack_status` bits). */
  status: 8,
  mark: 16,
  /** `nf_conn.zone.id`. */
  zone: 20,
  /** `_nfct & 7`: `enum ip_conntrack_info`. */
  info: 22,
  /** {@link CtFlags}. */
  flags: 23,
  orig: 24,
  reply: 24 + CT_TUPLE.size,
  size: 24 + 2 * CT_TUPLE.size,
} as const;

/** Bits of the section's `flags` byte. */
export const CtFlags = {
  /** The skb carries a conntrack reference (`_nfct != 0`); without it the section is absent. */
  present: 1,
  /** The kernel has `nf_conn.mark` (CONFIG_NF_CONNTRACK_MARK). */
  mark: 2,
  /** The kernel has `nf_conn.zone` (CONFIG_NF_CONNTRACK_ZONES). */
  zone: 4,
} as const;

/** One direction of a connection as conntrack keeps it. */
export interface CtTuple {
  readonly saddr: string;
  readonly daddr: string;
  /** Host order; for ICMP the echo id. */
  readonly sport: number;
  /** Host order; for ICMP `type << 8 | code`. */
  readonly dport: number;
  /** IP protocol number. */
  readonly proto: number;
  /** 4 or 6 (0 when conntrack holds another family). */
  readonly family: 4 | 6 | 0;
}

/** The decoded conntrack state of an event's skb. */
export interface EventCt {
  /** The `struct nf_conn` address (0 for an untracked packet): groups one connection's packets. */
  readonly addr: Addr64;
  /** `enum ip_conntrack_info` value (`_nfct & 7`). */
  readonly info: number;
  /** `nf_conn.status` bits (they all fit in 32 bits). */
  readonly status: number;
  /** Absent when the kernel has no `nf_conn.mark`. */
  readonly mark?: number;
  /** Absent when the kernel has no `nf_conn.zone`. */
  readonly zone?: number;
  /** Absent for untracked packets (no `nf_conn`). */
  readonly orig?: CtTuple;
  readonly reply?: CtTuple;
}

function tupleAt(view: DataView, off: number): CtTuple {
  const l3num = view.getUint16(off + CT_TUPLE.l3num, true);
  const family = l3num === 2 ? 4 : l3num === 10 ? 6 : 0;
  const addr = family === 4 ? ipv4String : family === 6 ? ipv6String : (): string => '';
  return {
    saddr: addr(view, off + CT_TUPLE.saddr),
    daddr: addr(view, off + CT_TUPLE.daddr),
    sport: view.getUint16(off + CT_TUPLE.sport, false),
    dport: view.getUint16(off + CT_TUPLE.dport, false),
    proto: view.getUint8(off + CT_TUPLE.proto),
    family,
  };
}

/** Decodes the section at `off`; undefined when the skb had no conntrack reference. */
export function ctAt(view: DataView, off: number): EventCt | undefined {
  const flags = view.getUint8(off + CT.flags);
  if ((flags & CtFlags.present) === 0) return undefined;
  const addr = { lo: view.getUint32(off + CT.addr, true), hi: view.getUint32(off + CT.addr + 4, true) };
  const tracked = addr.lo !== 0 || addr.hi !== 0;
  return {
    addr,
    info: view.getUint8(off + CT.info),
    status: view.getUint32(off + CT.status, true),
    ...((flags & CtFlags.mark) !== 0 ? { mark: view.getUint32(off + CT.mark, true) } : {}),
    ...((flags & CtFlags.zone) !== 0 ? { zone: view.getUint16(off + CT.zone, true) } : {}),
    ...(tracked ? { orig: tupleAt(view, off + CT.orig), reply: tupleAt(view, off + CT.reply) } : {}),
  };
}
