/**
 * A packet's life on one node: the events of one skb address from its first appearance to its
 * free. The skb keeps its address through netfilter, NAT and veth hops, so a segment shows a
 * rewrite as a change of tuple between its events.
 */
import type { NodeEvent, WireTuple } from './stream.js';

/** Functions that end an skb's life (the drop, the consume, and their variants). */
const FREE =
  /^(kfree_skb|kfree_skb_reason|__kfree_skb|consume_skb|sk_skb_reason_drop|napi_consume_skb|__dev_kfree_skb_any|__dev_kfree_skb_irq|dev_kfree_skb_any_reason|dev_kfree_skb_irq_reason|kfree_skb_list_reason|skb_attempt_defer_free)$/;
/**
 * Functions that end an skb's life without a drop or consume (a socket's consume path, the struct
 * freed or put back in the per-CPU cache, whose next user gets the same address).
 */
const END =
  /^(kfree_skbmem|napi_skb_cache_put|__consume_stateless_skb|skb_consume_udp|kfree_skb_partial|__napi_kfree_skb|napi_skb_free_stolen_head)$/;
/** Functions of the free path that still belong to the freed skb's segment. */
const RELEASE =
  /^(skb_release_|kfree_skbmem|napi_skb_cache_put|skb_free_head|__kfree_skb|skb_attempt_defer|napi_skb_free|__napi_kfree|sock_[rw]free|skb_orphan|dst_release|nf_conntrack_put|skb_dst_drop|__skb_ext_put|skb_ext_put|skb_free_frag|kfree_skb_partial|__consume_stateless_skb|skb_destruct|sock_def_write_space)/;
/** Transmit functions: a segment's last one is when the packet left the node. */
const XMIT = /xmit/;
/** Drop functions (a drop reason, or one of these names, means the packet was dropped). */
const DROP =
  /^(kfree_skb|kfree_skb_reason|sk_skb_reason_drop|kfree_skb_list_reason|dev_kfree_skb_any_reason|dev_kfree_skb_irq_reason)$/;

/** Whether `base` (a function name) frees an skb. */
export function isFree(base: string): boolean {
  return FREE.test(base);
}

/** One skb's events on one node. */
export interface Segment {
  readonly id: number;
  readonly node: string;
  readonly skb: string;
  readonly events: NodeEvent[];
  /** Set once a free function was seen. */
  freed: boolean;
}

/** The tuple's identity as text: addresses, ports, protocol (and wire ids when present). */
export function tupleKey(t: WireTuple): string {
  return `${t.proto} ${t.saddr}:${t.sport}>${t.daddr}:${t.dport}`;
}

/** Splits each node's events into segments, in stream order. */
export function segmentEvents(events: readonly NodeEvent[], nextId: { n: number }): Segment[] {
  const open = new Map<string, Segment>();
  const out: Segment[] = [];
  for (const ev of events) {
    const skb = ev.json.skb;
    let seg = open.get(skb);
    if (seg && seg.freed && !RELEASE.test(ev.base) && !isFree(ev.base)) seg = undefined;
    if (!seg) {
      seg = { id: nextId.n++, node: ev.node, skb, events: [], freed: false };
      open.set(skb, seg);
      out.push(seg);
    }
    seg.events.push(ev);
    if (isFree(ev.base) || END.test(ev.base)) seg.freed = true;
  }
  return out;
}

/** The event at which the packet left the node: the last transmit with a tuple, if any. */
export function sendEvent(seg: Segment): NodeEvent | undefined {
  for (let i = seg.events.length - 1; i >= 0; i--) {
    const ev = seg.events[i]!;
    if (XMIT.test(ev.base) && ev.tuple && isComplete(ev.tuple) && !isLoopback(ev)) return ev;
  }
  return undefined;
}

/** The segment's first event with a tuple: how the packet arrived, if it came from elsewhere. */
export function arrivalEvent(seg: Segment): NodeEvent | undefined {
  const first = seg.events[0];
  if (!first || XMIT.test(first.base)) return undefined;
  return seg.events.find((e) => e.tuple !== undefined && isComplete(e.tuple));
}

function isLoopback(ev: NodeEvent): boolean {
  const iface = ev.json.iface;
  return iface !== undefined && /^lo:/.test(iface);
}

/**
 * Whether a tuple is whole: an address, and ports for TCP/UDP (a socket's send path shows ports 0
 * until the transport header is written, which is no rewrite).
 */
export function isComplete(t: WireTuple): boolean {
  return t.saddr !== '' && !((t.proto === 6 || t.proto === 17 || t.proto === 132) && t.sport === 0 && t.dport === 0);
}

/** Distinct tuples in the order the segment saw them: more than one means a rewrite (NAT). */
export function tupleHistory(seg: Segment): { tuple: WireTuple; at: NodeEvent }[] {
  const out: { tuple: WireTuple; at: NodeEvent }[] = [];
  let last = '';
  for (const ev of seg.events) {
    if (!ev.tuple || !isComplete(ev.tuple)) continue;
    const k = tupleKey(ev.tuple);
    if (k !== last) out.push({ tuple: ev.tuple, at: ev });
    last = k;
  }
  return out;
}

/** How the packet ended in a segment: the first event of its free path, and whether that was a drop. */
export function fateOf(seg: Segment): { kind: 'dropped' | 'consumed' | 'in flight'; at: NodeEvent } {
  const events = seg.events;
  const at = events.find((ev) => isFree(ev.base) || END.test(ev.base));
  if (!at) return { kind: 'in flight', at: events[events.length - 1]! };
  const dropped = at.reason !== undefined ? !/CONSUMED/.test(at.reason) : DROP.test(at.base);
  return { kind: dropped ? 'dropped' : 'consumed', at };
}
