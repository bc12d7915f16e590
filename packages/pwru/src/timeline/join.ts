/**
 * The cross-node join: finds each packet's segments on every node, links a segment that sent a
 * packet on one node to the segment that received it on another, estimates the node clocks'
 * offsets from those crossings, and orders each packet's events on one clock.
 */
import { type ClockEstimate, type Crossing, estimateOffsets } from './clock.js';
import { arrivalEvent, fateOf, type Segment, segmentEvents, sendEvent, tupleHistory } from './segment.js';
import { type NodeEvent, type NodeStream, WIRE_ID_FIELDS, type WireTuple } from './stream.js';

/** A packet crossing from one node to another. */
export interface Hop {
  readonly from: string;
  readonly to: string;
  /** The last transmit on `from` and the first event on `to`. */
  readonly send: NodeEvent;
  readonly recv: NodeEvent;
  /** `recv - send` on the reference clock (ns): the one-way latency, as precise as the offsets. */
  readonly latencyNs: number;
}

/** A tuple rewrite one node's events show (NAT, by conntrack or by a BPF program). */
export interface Rewrite {
  readonly node: string;
  readonly from: WireTuple;
  readonly to: WireTuple;
  /** The first event that saw the new tuple. */
  readonly at: NodeEvent;
}

/** One event of a packet's timeline, its time on the reference node's clock. */
export interface TimelineEvent {
  /** ns on the reference clock (the local time minus the node's estimated offset). */
  readonly t: number;
  readonly event: NodeEvent;
}

/** One packet across every node that saw it. */
export interface PacketTimeline {
  /** 1-based, in the order packets started. */
  id: number;
  /** Nodes in the order the packet reached them. */
  readonly nodes: string[];
  readonly events: TimelineEvent[];
  readonly hops: Hop[];
  readonly rewrites: Rewrite[];
  /** How the packet ended on the last node it reached. */
  readonly fate: {
    readonly kind: 'dropped' | 'consumed' | 'in flight';
    readonly node: string;
    readonly event: NodeEvent;
  };
  /** A stable identity across re-joins of growing streams: the first event's node and index. */
  readonly key: string;
}

/** The join of several nodes' streams. */
export interface Timeline {
  readonly packets: PacketTimeline[];
  /** Per node, in the streams' order; the first node is the reference clock. */
  readonly clocks: ClockEstimate[];
}

/**
 * A segment's tuple identity on the wire (with flags and wire ids when present). `data_hash` is
 * not part of it: whether an event has one depends on the skb's layout on that node (payload in
 * the linear data or in page fragments), so it only tells packets apart when both sides have it
 * (see {@link hashesConflict}).
 */
export function wireKey(t: WireTuple): string {
  let k = `${t.proto} ${t.saddr}:${t.sport}>${t.daddr}:${t.dport}`;
  if (t.flags !== undefined) k += ` ${t.flags}`;
  for (const f of WIRE_ID_FIELDS) if (f !== 'data_hash' && t[f] !== undefined) k += ` ${f}=${t[f]}`;
  return k;
}

/** Whether two events with one wire key carry different payloads (both have `data_hash` and they differ). */
export function hashesConflict(a: NodeEvent, b: NodeEvent): boolean {
  const x = a.tuple?.data_hash;
  const y = b.tuple?.data_hash;
  return x !== undefined && y !== undefined && x !== y;
}

interface Side {
  seg: Segment;
  ev: NodeEvent;
}

interface Group {
  from: string;
  to: string;
  sends: Side[];
  recvs: Side[];
}

/** Options of {@link joinStreams}. */
export interface JoinOptions {
  /**
   * The offset assumed where only one direction bounds it (ns). Defaults to 0 when every stream
   * has wall-clock times (a clock reference, or `--timestamp absolute`), else the bound itself.
   */
  readonly prior?: number;
}

/** Joins nodes' event streams into one timeline per packet. */
export function joinStreams(streams: readonly NodeStream[], opts: JoinOptions = {}): Timeline {
  const nodes = streams.map((s) => s.node);
  const ids = { n: 0 };
  const segments: Segment[] = [];
  for (const s of streams) segments.push(...segmentEvents(s.events, ids));

  // Senders by (node, key) and receivers by (node, key).
  const groups = new Map<string, Group>();
  const recvByKey = new Map<string, Side[]>();
  for (const seg of segments) {
    const a = arrivalEvent(seg);
    if (a?.tuple) {
      const k = wireKey(a.tuple);
      let l = recvByKey.get(k);
      if (!l) recvByKey.set(k, (l = []));
      l.push({ seg, ev: a });
    }
  }
  for (const seg of segments) {
    const s = sendEvent(seg);
    if (!s?.tuple) continue;
    const k = wireKey(s.tuple);
    for (const r of recvByKey.get(k) ?? []) {
      if (r.seg.node === seg.node) continue;
      const gk = `${seg.node}\u0000${r.seg.node}\u0000${k}`;
      let g = groups.get(gk);
      if (!g) groups.set(gk, (g = { from: seg.node, to: r.seg.node, sends: [], recvs: [] }));
      if (g.sends[g.sends.length - 1]?.seg !== seg) g.sends.push({ seg, ev: s });
    }
  }
  // A packet forwarded with its tuple unchanged (a router, a tunnel end) is sent by every node on
  // its path: a send matches the next node's receive, never one beyond a forwarder.
  const forwarders = new Map<string, Set<string>>();
  for (const seg of segments) {
    const a = arrivalEvent(seg);
    const s = sendEvent(seg);
    if (!a?.tuple || !s?.tuple || wireKey(a.tuple) !== wireKey(s.tuple)) continue;
    const k = wireKey(s.tuple);
    let f = forwarders.get(k);
    if (!f) forwarders.set(k, (f = new Set()));
    f.add(seg.node);
  }
  for (const [gk, g] of groups) {
    const k = gk.split('\u0000')[2]!;
    for (const f of forwarders.get(k) ?? []) {
      if (
        f !== g.from &&
        f !== g.to &&
        groups.has(`${g.from}\u0000${f}\u0000${k}`) &&
        groups.has(`${f}\u0000${g.to}\u0000${k}`)
      )
        groups.delete(gk);
    }
  }
  for (const [gk, g] of groups) {
    const k = gk.split('\u0000')[2]!;
    g.recvs = (recvByKey.get(k) ?? []).filter((r) => r.seg.node === g.to);
    g.sends.sort((a, b) => a.ev.t - b.ev.t);
    g.recvs.sort((a, b) => a.ev.t - b.ev.t);
  }

  const wallClocks = streams.every(
    (s) => s.timeSource === 'monotonic+reference' || s.timeSource === 'absolute' || s.timeSource === undefined,
  );
  const prior = opts.prior ?? (wallClocks ? 0 : undefined);
  const used = new Set<Segment>();
  const links: [Side, Side][] = [];
  const link = (s: Side, r: Side): void => {
    used.add(s.seg);
    used.add(r.seg);
    links.push([s, r]);
  };
  // 1. Flows whose counts agree pair in order (a flow keeps its order on one wire), unless their
  // payload hashes say otherwise.
  const ambiguous: Group[] = [];
  for (const g of groups.values()) {
    if (g.sends.length === g.recvs.length && g.sends.every((s, i) => !hashesConflict(s.ev, g.recvs[i]!.ev)))
      g.sends.forEach((s, i) => link(s, g.recvs[i]!));
    else ambiguous.push(g);
  }
  // 2. The others (losses on the wire, packets before a capture started, payloads out of order)
  // pair by the offsets the first ones give: each receive takes the latest unused send with a
  // payload hash it agrees with that precedes it (after the previous pick, unless the hashes
  // show the order changed).
  let clocks = estimate(nodes, links, prior);
  for (const g of ambiguous) {
    const off = (n: string): number => clocks.get(n)!.offsetNs;
    const p = clocks.get(g.to)!.precisionNs + clocks.get(g.from)!.precisionNs;
    const tol = Number.isFinite(p) ? p : 0;
    let lastIdx = -1;
    for (const r of g.recvs) {
      if (used.has(r.seg)) continue;
      const rt = r.ev.t - off(g.to);
      const latest = (from: number): number => {
        let pick = -1;
        for (let i = from; i < g.sends.length; i++) {
          const s = g.sends[i]!;
          if (s.ev.t - off(g.from) >= rt + tol) break;
          if (!used.has(s.seg) && !hashesConflict(s.ev, r.ev)) pick = i;
        }
        return pick;
      };
      let pick = latest(lastIdx + 1);
      if (pick < 0 && r.ev.tuple?.data_hash !== undefined) pick = latest(0);
      if (pick < 0) continue;
      link(g.sends[pick]!, r);
      lastIdx = Math.max(lastIdx, pick);
    }
  }
  clocks = estimate(nodes, links, prior);

  // Chains: segments joined by links.
  const parent = new Map<Segment, Segment>();
  const find = (s: Segment): Segment => {
    let p = parent.get(s) ?? s;
    if (p !== s) parent.set(s, (p = find(p)));
    return p;
  };
  for (const [s, r] of links) parent.set(find(r.seg), find(s.seg));
  const members = new Map<Segment, Segment[]>();
  for (const seg of segments) {
    const root = find(seg);
    let l = members.get(root);
    if (!l) members.set(root, (l = []));
    l.push(seg);
  }
  const incoming = new Map<Segment, Side>();
  for (const [s, r] of links) incoming.set(r.seg, s);
  const off = (n: string): number => clocks.get(n)!.offsetNs;
  const depth = (seg: Segment): number => {
    let d = 0;
    for (let s = incoming.get(seg); s && d < 64; s = incoming.get(s.seg)) d++;
    return d;
  };

  const packets: PacketTimeline[] = [];
  for (const segs of members.values()) {
    const depths = new Map(segs.map((s) => [s, depth(s)] as const));
    const events: (TimelineEvent & { d: number })[] = [];
    for (const seg of segs)
      for (const ev of seg.events) events.push({ t: ev.t - off(ev.node), event: ev, d: depths.get(seg)! });
    events.sort((a, b) => a.t - b.t || a.d - b.d || a.event.index - b.event.index);
    const hops: Hop[] = [];
    for (const [s, r] of links) {
      if (!depths.has(r.seg)) continue;
      hops.push({
        from: s.seg.node,
        to: r.seg.node,
        send: s.ev,
        recv: r.ev,
        latencyNs: r.ev.t - off(r.seg.node) - (s.ev.t - off(s.seg.node)),
      });
    }
    hops.sort((a, b) => a.send.t - off(a.from) - (b.send.t - off(b.from)));
    const rewrites: Rewrite[] = [];
    for (const seg of segs) {
      const h = tupleHistory(seg);
      for (let i = 1; i < h.length; i++)
        rewrites.push({ node: seg.node, from: h[i - 1]!.tuple, to: h[i]!.tuple, at: h[i]!.at });
    }
    const last = segs.reduce((a, b) =>
      depths.get(b)! > depths.get(a)! ||
      (depths.get(b) === depths.get(a) &&
        b.events[b.events.length - 1]!.t - off(b.node) > a.events[a.events.length - 1]!.t - off(a.node))
        ? b
        : a,
    );
    const fate = fateOf(last);
    const order: string[] = [];
    for (const e of events) if (!order.includes(e.event.node)) order.push(e.event.node);
    const first = events[0]!.event;
    packets.push({
      id: 0,
      nodes: order,
      events: events.map(({ t, event }) => ({ t, event })),
      hops,
      rewrites,
      fate: { kind: fate.kind, node: last.node, event: fate.at },
      key: `${first.node}#${first.index}`,
    });
  }
  packets.sort((a, b) => a.events[0]!.t - b.events[0]!.t);
  packets.forEach((p, i) => (p.id = i + 1));
  return { packets, clocks: nodes.map((n) => clocks.get(n)!) };
}

function estimate(
  nodes: readonly string[],
  links: readonly [Side, Side][],
  prior: number | undefined,
): Map<string, ClockEstimate> {
  const crossings: Crossing[] = links.map(([s, r]) => ({
    from: s.seg.node,
    to: r.seg.node,
    send: s.ev.t,
    recv: r.ev.t,
  }));
  return estimateOffsets(nodes, crossings, prior);
}
