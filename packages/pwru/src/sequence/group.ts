/**
 * Groups hops into packets: one packet per skb address over its life, from its first event to
 * its free (`kfree_skbmem`, or the free functions and tracepoints `kfree_skb`, `consume_skb`,
 * `kfree_skb_reason`, `sk_skb_reason_drop`, `__kfree_skb` and the release steps after them);
 * the next event at that address is a new packet. A copy made while the kernel function doing
 * it is traced (`skb_clone`, `skb_copy`, `pskb_copy`, ... seen on the original just before the
 * copy's first event, with the same tuple) joins the original's packet. A packet keeps its skb
 * across veth, NAT and forwarding, and `--filter-track-skb` keeps such packets in the trace.
 *
 * An XDP program's event (`--filter-trace-xdp`, FUNC `...[bpf](xdp)`) starts a packet of its own:
 * its "skb" is the `xdp_buff`, an address the driver reuses for every frame. The skb built from
 * that frame joins it by what survives the XDP-to-skb boundary: the skb is built in the same
 * NAPI poll, so on the same CPU right after the program ran (within {@link XDP_TO_SKB_NS}), on
 * the same device of the same netns, with the same tuple, and a length of the frame's or of the
 * frame less its Ethernet header (14 bytes, 18 with one VLAN tag) once `eth_type_trans` pulled
 * it. The first new skb so matching on that CPU joins; any other starts its own packet.
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

/** An XDP program's event: FUNC `bpf_prog_<tag>_<entry>[bpf](xdp)`. */
const XDP_PROG = /\[bpf\]\(xdp\)$/;
/**
 * Longest time between an XDP program's event and the first event of the skb built from its
 * frame. The same NAPI poll takes microseconds; the bound is generous because a loaded or
 * emulated machine (a TCG test VM: 6 ms) stretches it, and the next frame on the CPU replaces
 * the pending one anyway.
 */
export const XDP_TO_SKB_NS = 100_000_000;

/** Whether `skb`, first seen at `hop`, can be the skb built from the XDP frame of `xdp`. */
function builtFrom(xdp: Hop, hop: Hop): boolean {
  if (hop.cpu !== xdp.cpu || hop.netns !== xdp.netns || hop.iface !== xdp.iface || hop.tuple !== xdp.tuple)
    return false;
  if (xdp.ts !== undefined && hop.ts !== undefined && (hop.ts < xdp.ts || hop.ts - xdp.ts > XDP_TO_SKB_NS))
    return false;
  if (xdp.len === undefined || hop.len === undefined) return true;
  const pulled = xdp.len - hop.len;
  return pulled === 0 || pulled === 14 || pulled === 18;
}

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
  /** By CPU: the last XDP frame whose skb has not been seen yet, and its packet. */
  private readonly xdpFrames = new Map<number | undefined, { story: PacketStory; hop: Hop }>();

  /** Adds the next hop. */
  add(hop: Hop): void {
    if (XDP_PROG.test(hop.func)) {
      this.addXdp(hop);
      return;
    }
    let cur = this.live.get(hop.skb);
    if (cur && cur.freeing && !RELEASE.test(hop.func)) {
      this.live.delete(hop.skb);
      cur = undefined;
    }
    if (!cur) {
      const c = this.copying;
      let story: PacketStory;
      const frame = this.xdpFrames.get(hop.cpu);
      if (c && c.tuple === hop.tuple && !c.story.skbs.includes(hop.skb)) {
        story = c.story;
        story.skbs.push(hop.skb);
      } else if (frame && builtFrom(frame.hop, hop)) {
        story = frame.story;
        story.skbs.push(hop.skb);
        this.xdpFrames.delete(hop.cpu);
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

  /**
   * An XDP program's event: the next hop of its frame's packet when another program (or its
   * return) saw the same frame just before on this CPU, else a new packet.
   */
  private addXdp(hop: Hop): void {
    const frame = this.xdpFrames.get(hop.cpu);
    if (frame && frame.hop.skb === hop.skb && frame.hop.tuple === hop.tuple && frame.story.skbs.length === 1) {
      frame.story.hops.push(hop);
      return;
    }
    const story: PacketStory = { id: this.stories.length + 1, skbs: [hop.skb], hops: [hop], end: { kind: 'alive' } };
    this.stories.push(story);
    this.xdpFrames.set(hop.cpu, { story, hop });
  }

  /** The packets so far, each with how it ended. */
  result(): PacketStory[] {
    for (const s of this.stories) s.end = endOf(s);
    return this.stories;
  }
}

/**
 * How a packet ended: dropped (a free with a drop reason other than SKB_CONSUMED, or plain
 * `kfree_skb` on kernels without drop reasons), delivered to
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
  // Before 5.17 (no drop reasons) a dropped skb is freed by plain kfree_skb and a consumed one by
  // consume_skb; later kernels name kfree_skb's reason SKB_DROP_REASON_NOT_SPECIFIED.
  const oldDrop = findLast(hops, (h) => h.reason === undefined && h.func === 'kfree_skb');
  if (oldDrop) return { kind: 'drop', func: oldDrop.func, reason: 'SKB_DROP_REASON_NOT_SPECIFIED' };
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
