/**
 * Groups hops into packets: one packet per skb address over its life, from its first event to
 * its free (`kfree_skbmem`, or the free functions and tracepoints `kfree_skb`, `consume_skb`,
 * `kfree_skb_reason`, `sk_skb_reason_drop`, `__kfree_skb` and the release steps after them);
 * the next event at that address is a new packet. A copy made while the kernel function doing
 * it is traced (`skb_clone`, `skb_copy`, `pskb_copy`, ... seen on the original just before the
 * copy's first event, with the same tuple) joins the original's packet. A packet keeps its skb
 * across veth, NAT and forwarding, and `--filter-track-skb` keeps such packets in the trace.
 */
import type { Hop } from './hop.js';

/** How a packet's story ends. */
export type PacketEnd =
  | { readonly kind: 'drop'; readonly func: string; readonly reason: string }
  | { readonly kind: 'socket'; readonly func: string }
  | { readonly kind: 'transmit'; readonly func: string }
  | { readonly kind: 'freed'; readonly func: string }
  | { readonly kind: 'alive' };

/** One packet's path. */
export interface PacketStory {
  /** 1-based, in order of first sight. */
  readonly id: number;
  /** Every skb address the packet had (the first, then copies joined to it). */
  readonly skbs: string[];
  readonly hops: Hop[];
  end: PacketEnd;
}

/** The frees that end an skb's life (the tracepoints have the same names). */
const FREES = new Set([
  'kfree_skb',
  'kfree_skb_reason',
  'sk_skb_reason_drop',
  'consume_skb',
  '__kfree_skb',
  'kfree_skb_list_reason',
  'napi_consume_skb',
  '__dev_kfree_skb_any',
  'kfree_skb_partial',
  'skb_attempt_defer_free',
]);
/** The last step of every free: after it, the address belongs to a new skb. */
const LAST_FREE = 'kfree_skbmem';
/** Steps a free goes through after the free function itself. */
const RELEASE = /free|release|destructor|skb_orphan|dst_release|nf_conntrack_put/;
/** Functions that copy an skb: the copy's events join the original's packet. */
const COPIES = new Set([
  'skb_clone',
  '__skb_clone',
  'skb_copy',
  'pskb_copy',
  '__pskb_copy_fclone',
  'skb_copy_expand',
  'pskb_expand_head',
  'skb_segment',
  'skb_realloc_headroom',
  'skb_expand_head',
]);
/** Functions that hand an skb's data to a socket. */
const SOCKET =
  /^(skb_copy_datagram_iter|skb_copy_datagram_iovec|tcp_rcv_established|tcp_v[46]_do_rcv|tcp_queue_rcv|__udp_enqueue_schedule_skb|udp_queue_rcv_one_skb|sock_queue_rcv_skb.*|__sock_queue_rcv_skb|ping_queue_rcv_skb|raw_rcv_skb|packet_rcv|tpacket_rcv|unix_stream_.*|tcp_data_queue)$/;
/** Functions (and tracepoints) that hand an skb to a driver. */
const TRANSMIT = /^(net_dev_xmit|net_dev_start_xmit|dev_hard_start_xmit|xmit_one|veth_xmit|loopback_xmit)$/;
const RECEIVE =
  /^(netif_receive_skb|__netif_receive_skb.*|netif_rx.*|napi_gro_receive.*|ip_rcv|ipv6_rcv|ip_rcv_core|veth_xdp_rcv.*)$/;

interface Live {
  story: PacketStory;
  /** The skb is being freed: only release steps still belong to it. */
  freeing: boolean;
}

/** Builds packet stories from hops in the order they were seen. */
export class PacketSequencer {
  private readonly stories: PacketStory[] = [];
  private readonly live = new Map<string, Live>();
  /** The last packet seen in a copy function, with the tuple the copy will carry. */
  private copying?: { story: PacketStory; tuple: string | undefined };

  /** Adds the next hop. */
  add(hop: Hop): void {
    let cur = this.live.get(hop.skb);
    if (cur && cur.freeing && !RELEASE.test(hop.func)) {
      this.live.delete(hop.skb);
      cur = undefined;
    }
    if (!cur) {
      const c = this.copying;
      let story: PacketStory;
      if (c && c.tuple === hop.tuple && !c.story.skbs.includes(hop.skb)) {
        story = c.story;
        story.skbs.push(hop.skb);
      } else {
        story = { id: this.stories.length + 1, skbs: [hop.skb], hops: [], end: { kind: 'alive' } };
        this.stories.push(story);
      }
      this.copying = undefined;
      cur = { story, freeing: false };
      this.live.set(hop.skb, cur);
    } else if (this.copying && this.copying.story !== cur.story) {
      this.copying = undefined;
    }
    cur.story.hops.push(hop);
    if (COPIES.has(hop.func)) this.copying = { story: cur.story, tuple: hop.tuple };
    if (hop.func === LAST_FREE) this.live.delete(hop.skb);
    else if (FREES.has(hop.func)) cur.freeing = true;
  }

  /** The packets so far, each with how it ended. */
  result(): PacketStory[] {
    for (const s of this.stories) s.end = endOf(s);
    return this.stories;
  }
}

/**
 * How a packet ended: dropped (a free with a drop reason other than SKB_CONSUMED), delivered to
 * a socket, transmitted (a driver took it last), freed otherwise, or still alive at the end.
 */
export function endOf(s: PacketStory): PacketEnd {
  const hops = s.hops;
  const drop = findLast(
    hops,
    (h) =>
      h.reason !== undefined &&
      h.reason !== 'SKB_CONSUMED' &&
      h.reason !== 'SKB_DROP_REASON_NOT_SPECIFIED' &&
      FREES.has(h.func),
  );
  const anyDrop =
    drop ?? findLast(hops, (h) => h.reason !== undefined && h.reason !== 'SKB_CONSUMED' && FREES.has(h.func));
  if (anyDrop) return { kind: 'drop', func: anyDrop.func, reason: anyDrop.reason! };
  const freed = hops.some((h) => FREES.has(h.func) || h.func === LAST_FREE);
  const sock = findLast(hops, (h) => SOCKET.test(h.func));
  if (sock) return { kind: 'socket', func: sock.func };
  let xmit: Hop | undefined;
  for (const h of hops) {
    if (TRANSMIT.test(h.func)) xmit = h;
    else if (RECEIVE.test(h.func)) xmit = undefined;
  }
  if (xmit) return { kind: 'transmit', func: xmit.func };
  const free = findLast(hops, (h) => FREES.has(h.func) || h.func === LAST_FREE);
  return freed && free ? { kind: 'freed', func: free.func } : { kind: 'alive' };
}

function findLast(hops: readonly Hop[], pred: (h: Hop) => boolean): Hop | undefined {
  for (let i = hops.length - 1; i >= 0; i--) if (pred(hops[i]!)) return hops[i];
  return undefined;
}
