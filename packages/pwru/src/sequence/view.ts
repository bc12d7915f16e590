/**
 * The per-packet view: each packet's hops with the time since the previous hop and since the
 * first, and a "what changed" note where the tuple, mark, device, netns or length changed
 * between two hops; as text or as one JSON object per packet.
 */
import type { Hop } from './hop.js';
import type { PacketEnd, PacketStory } from './group.js';

/** What changed between two hops of a packet (`netns 4026531840->4026532177`, ...). */
export function changes(prev: Hop, next: Hop): string[] {
  const out: string[] = [];
  const diff = (
    what: string,
    a: string | number | undefined,
    b: string | number | undefined,
    show = (v: string | number) => String(v),
  ): void => {
    if (a !== undefined && b !== undefined && a !== b) out.push(`${what} ${show(a)}->${show(b)}`);
  };
  if (next.skb !== prev.skb) out.push(`skb ${prev.skb}->${next.skb} (copy)`);
  if (prev.tuple !== undefined && next.tuple !== undefined && prev.tuple !== next.tuple)
    out.push(`tuple ${prev.tuple} -> ${next.tuple}`);
  diff('netns', prev.netns, next.netns);
  diff('iface', prev.iface, next.iface);
  diff('mark', prev.mark, next.mark, (v) => '0x' + Number(v).toString(16));
  diff('len', prev.len, next.len);
  return out;
}

/** A duration in nanoseconds, at a readable scale (`850ns`, `12.4µs`, `3.02ms`, `1.50s`). */
export function duration(ns: number): string {
  if (ns < 1000) return `${ns}ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(1)}µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(2)}ms`;
  return `${(ns / 1e9).toFixed(2)}s`;
}

/** How a packet's end reads. */
export function endText(e: PacketEnd): string {
  switch (e.kind) {
    case 'drop':
      return `dropped at ${e.func}: ${e.reason}`;
    case 'socket':
      return `delivered to a socket (${e.func})`;
    case 'transmit':
      return `transmitted (${e.func})`;
    case 'freed':
      return `freed (${e.func})`;
    case 'alive':
      return 'still alive at the end of the trace';
  }
}

/** The packet's first tuple (what it was when first seen). */
function firstTuple(s: PacketStory): string {
  return s.hops.find((h) => h.tuple !== undefined)?.tuple ?? '(no tuple)';
}

function span(s: PacketStory): number | undefined {
  const first = s.hops[0]?.ts;
  const last = s.hops[s.hops.length - 1]?.ts;
  return first !== undefined && last !== undefined ? last - first : undefined;
}

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const padL = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

/** The view as text: a title line per packet, then one line per hop and the change notes. */
export function formatSequenceText(stories: readonly PacketStory[]): string {
  let out = '';
  for (const s of stories) {
    const total = span(s);
    out += `PACKET ${s.id}  ${firstTuple(s)}  skb ${s.skbs.join(', ')}  ${s.hops.length} hop${s.hops.length === 1 ? '' : 's'}${total !== undefined ? ` in ${duration(total)}` : ''}  ${endText(s.end)}\n`;
    out += `  ${padL('#', 3)} ${padL('+PREV', 9)} ${padL('+FIRST', 9)}  ${pad('NETNS', 10)} ${pad('IFACE', 14)} ${pad('CPU', 3)} FUNC\n`;
    const t0 = s.hops[0]?.ts;
    s.hops.forEach((h, i) => {
      const prev = s.hops[i - 1];
      const changed = prev ? changes(prev, h) : [];
      if (changed.length > 0) out += `  ${' '.repeat(3 + 1 + 9 + 1 + 9)}  ~ ${changed.join(', ')}\n`;
      const dPrev =
        prev?.ts !== undefined && h.ts !== undefined
          ? '+' + duration(h.ts - prev.ts)
          : i === 0 && h.ts !== undefined
            ? '0'
            : '-';
      const dFirst = t0 !== undefined && h.ts !== undefined ? (i === 0 ? '0' : '+' + duration(h.ts - t0)) : '-';
      const func =
        h.func + (h.reason !== undefined ? `(${h.reason})` : '') + (h.ret !== undefined ? ` = ${h.ret}` : '');
      out += `  ${padL(String(i + 1), 3)} ${padL(dPrev, 9)} ${padL(dFirst, 9)}  ${pad(h.netns !== undefined ? String(h.netns) : '-', 10)} ${pad(h.iface ?? '-', 14)} ${pad(h.cpu !== undefined ? String(h.cpu) : '-', 3)} ${func}\n`;
    });
    out += '\n';
  }
  return out;
}

/** One packet as a JSON object (`--output-sequence --output-json`). */
export function sequenceJson(s: PacketStory): object {
  const t0 = s.hops[0]?.ts;
  const total = span(s);
  return {
    packet: s.id,
    skbs: s.skbs,
    tuple: firstTuple(s),
    ...(total !== undefined ? { duration_ns: total } : {}),
    end: s.end,
    hops: s.hops.map((h, i) => {
      const prev = s.hops[i - 1];
      const c = prev ? changes(prev, h) : [];
      return {
        ...h,
        ...(h.ts !== undefined && prev?.ts !== undefined ? { since_prev_ns: h.ts - prev.ts } : {}),
        ...(h.ts !== undefined && t0 !== undefined ? { since_first_ns: h.ts - t0 } : {}),
        ...(c.length > 0 ? { changed: c } : {}),
      };
    }),
  };
}

/** The view as JSON lines: one object per packet. */
export function formatSequenceJson(stories: readonly PacketStory[]): string {
  return stories.map((s) => JSON.stringify(sequenceJson(s)) + '\n').join('');
}
