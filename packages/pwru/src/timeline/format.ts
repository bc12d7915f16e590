/** Text and JSON renderings of a joined {@link Timeline}. */
import type { ClockEstimate } from './clock.js';
import type { PacketTimeline, Timeline } from './join.js';
import type { WireTuple } from './stream.js';
import { isComplete } from './segment.js';

const PROTO: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmp6', 132: 'sctp' };

function tupleText(t: WireTuple): string {
  const p = PROTO[t.proto] ?? String(t.proto);
  return `${t.saddr}:${t.sport}->${t.daddr}:${t.dport}(${p})`;
}

/** The wire ids a hop was matched by (` by id=.. len=.. seq=.. ack=..`), or nothing without any. */
function wireIdsText(t: WireTuple | undefined): string {
  if (!t) return '';
  const ids: string[] = [];
  if (t.ip_id !== undefined) ids.push(`id=${t.ip_id}`);
  if (t.ip_len !== undefined) ids.push(`len=${t.ip_len}`);
  if (t.seq !== undefined) ids.push(`seq=${t.seq}`);
  if (t.ack !== undefined) ids.push(`ack=${t.ack}`);
  if (t.data_hash !== undefined) ids.push(`hash=${t.data_hash}`);
  return ids.length > 0 ? `, by ${ids.join(' ')}` : '';
}

function us(ns: number): string {
  return (ns / 1000).toFixed(1);
}

/** A precision or bound in the most readable unit. */
export function duration(ns: number): string {
  if (!Number.isFinite(ns)) return 'unbounded';
  const a = Math.abs(ns);
  if (a >= 1e9) return `${(ns / 1e9).toFixed(3)} s`;
  if (a >= 1e6) return `${(ns / 1e6).toFixed(3)} ms`;
  if (a >= 1e3) return `${(ns / 1e3).toFixed(1)} µs`;
  return `${Math.round(ns)} ns`;
}

/** One line per node: its estimated offset, the interval and how many crossings bound it. */
export function clockLines(clocks: readonly ClockEstimate[]): string {
  const ref = clocks[0]?.node;
  return clocks
    .map((c) => {
      if (c.node === ref) return `clock ${c.node}: reference\n`;
      if (c.crossings === 0)
        return `clock ${c.node}: no packet crossed between it and the others: offset unknown (assumed ${duration(c.offsetNs)})\n`;
      const warn = c.consistent ? '' : ' INCONSISTENT (a clock jumped or packets were matched wrongly)';
      const n = `${c.crossings} crossing${c.crossings === 1 ? '' : 's'}`;
      if (Number.isFinite(c.precisionNs))
        return `clock ${c.node}: offset ${duration(c.offsetNs)} ± ${duration(c.precisionNs)} from ${c.via} (${n})${warn}\n`;
      const side = Number.isFinite(c.maxNs) ? `offset < ${duration(c.maxNs)}` : `offset > ${duration(c.minNs)}`;
      return `clock ${c.node}: offset ${duration(c.offsetNs)} assumed, only one bound, ${side}, from ${c.via} (${n}, packets in one direction only)${warn}\n`;
    })
    .join('');
}

/** A packet as text: a header, then one line per event on the reference clock. */
export function packetText(p: PacketTimeline): string {
  const first = p.events.find((e) => e.event.tuple && isComplete(e.event.tuple))?.event.tuple;
  const fate =
    p.fate.kind === 'dropped'
      ? `dropped on ${p.fate.node} at ${p.fate.event.json.func}`
      : p.fate.kind === 'consumed'
        ? `consumed on ${p.fate.node} at ${p.fate.event.json.func}`
        : `last seen on ${p.fate.node} at ${p.fate.event.json.func}`;
  let s = `packet ${p.id} ${first ? tupleText(first) + ' ' : ''}nodes ${p.nodes.join(' -> ')}: ${fate}\n`;
  const t0 = p.events[0]!.t;
  const width = Math.max(...p.nodes.map((n) => n.length));
  const hopAfter = new Map(p.hops.map((h) => [h.send, h] as const));
  const rewriteAt = new Map(p.rewrites.map((r) => [r.at, r] as const));
  for (const { t, event } of p.events) {
    const j = event.json;
    const meta = (j.iface !== undefined ? ` ${j.iface}` : '') + (event.pod !== undefined ? ` pod=${event.pod}` : '');
    const len = j.len !== undefined ? ` len=${j.len}` : '';
    const tuple = event.tuple ? ` ${tupleText(event.tuple)}` : '';
    s += `  +${us(t - t0).padStart(10)}us  ${event.node.padEnd(width)}  ${j.func}${meta}${len}${tuple}\n`;
    const r = rewriteAt.get(event);
    if (r) s += `  ${''.padStart(13)}  ${''.padEnd(width)}  ^ rewritten from ${tupleText(r.from)}\n`;
    const h = hopAfter.get(event);
    if (h)
      s += `  ${''.padStart(13)}  ${''.padEnd(width)}  ~ wire ${h.from} -> ${h.to}, ${duration(h.latencyNs)}${wireIdsText(h.send.tuple)}\n`;
  }
  return s;
}

/** The whole timeline as text: every packet, then the clocks. */
export function timelineText(tl: Timeline): string {
  return tl.packets.map(packetText).join('') + clockLines(tl.clocks);
}

/** A packet as one JSON object (one line). Times are ns on the reference clock. */
export function packetJson(p: PacketTimeline): Record<string, unknown> {
  return {
    packet: p.id,
    nodes: p.nodes,
    fate: { kind: p.fate.kind, node: p.fate.node, func: p.fate.event.json.func },
    hops: p.hops.map((h) => ({
      from: h.from,
      to: h.to,
      send_func: h.send.json.func,
      recv_func: h.recv.json.func,
      latency_ns: Math.round(h.latencyNs),
    })),
    rewrites: p.rewrites.map((r) => ({ node: r.node, from: r.from, to: r.to, func: r.at.json.func })),
    events: p.events.map(({ t, event }) => ({
      node: event.node,
      time_ns: Math.round(t),
      local_time_ns: event.t,
      ...(event.pod !== undefined ? { pod: event.pod } : {}),
      ...event.json,
    })),
  };
}

/** Clock estimates as one JSON object. */
export function clocksJson(clocks: readonly ClockEstimate[]): Record<string, unknown> {
  const n = (v: number): number | null => (Number.isFinite(v) ? Math.round(v) : null);
  return {
    clocks: clocks.map((c) => ({
      node: c.node,
      offset_ns: n(c.offsetNs),
      min_ns: n(c.minNs),
      max_ns: n(c.maxNs),
      precision_ns: n(c.precisionNs),
      crossings: c.crossings,
      ...(c.via ? { via: c.via } : {}),
      consistent: c.consistent,
    })),
  };
}
