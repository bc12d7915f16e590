/**
 * Node clock offsets from causality. A packet sent by node X (its last transmit, on X's clock)
 * and received by node Y (its first event there, on Y's clock) bounds Y's offset from X:
 * `off(Y) - off(X) < recv - send`. Packets the other way bound it from below. Both together
 * give an interval whose width is the two directions' smallest one-way latencies added.
 */

/** One matched wire crossing: sent at `send` on `from`'s clock, received at `recv` on `to`'s. */
export interface Crossing {
  readonly from: string;
  readonly to: string;
  readonly send: number;
  readonly recv: number;
}

/** What the crossings say about one node's clock. */
export interface ClockEstimate {
  readonly node: string;
  /** The node's clock minus the reference node's, in ns: subtract it to put times on the reference clock. */
  readonly offsetNs: number;
  /** The offset lies strictly between these (±Infinity when unbounded on that side). */
  readonly minNs: number;
  readonly maxNs: number;
  /** Half the interval's width, the estimate's precision (Infinity when a side is unbounded). */
  readonly precisionNs: number;
  /** Crossings that bound it, and the node it was estimated against. */
  readonly crossings: number;
  readonly via?: string;
  /** False when the crossings contradict each other (a clock jump, or a wrong match). */
  readonly consistent: boolean;
}

interface Interval {
  lo: number;
  hi: number;
  n: number;
}

/**
 * Estimates every node's offset from `nodes[0]`, along the pairs crossings connect (breadth
 * first). A bounded interval gives its midpoint; a one-sided one gives `prior` clamped into it
 * (0 when the streams carry wall clocks, which a synchronised cluster keeps within milliseconds),
 * or the bound itself without a prior.
 * Nodes no crossing reaches get offset `prior` and an unbounded interval.
 */
export function estimateOffsets(
  nodes: readonly string[],
  crossings: readonly Crossing[],
  prior?: number,
): Map<string, ClockEstimate> {
  const pair = new Map<string, Interval>();
  const key = (a: string, b: string): string => `${a}\u0000${b}`;
  const bound = (a: string, b: string): Interval => {
    let iv = pair.get(key(a, b));
    if (!iv) pair.set(key(a, b), (iv = { lo: -Infinity, hi: Infinity, n: 0 }));
    return iv;
  };
  for (const c of crossings) {
    if (c.from === c.to) continue;
    // off(to) - off(from) < recv - send
    const fwd = bound(c.from, c.to);
    fwd.hi = Math.min(fwd.hi, c.recv - c.send);
    fwd.n++;
    const rev = bound(c.to, c.from);
    rev.lo = Math.max(rev.lo, c.send - c.recv);
    rev.n++;
  }
  const out = new Map<string, ClockEstimate>();
  const ref = nodes[0];
  if (ref === undefined) return out;
  out.set(ref, { node: ref, offsetNs: 0, minNs: 0, maxNs: 0, precisionNs: 0, crossings: 0, consistent: true });
  const queue = [ref];
  while (queue.length > 0) {
    const x = queue.shift()!;
    const ox = out.get(x)!;
    for (const y of nodes) {
      if (out.has(y)) continue;
      const iv = pair.get(key(x, y));
      if (!iv || iv.n === 0) continue;
      const consistent = iv.lo < iv.hi;
      let rel: number;
      if (Number.isFinite(iv.lo) && Number.isFinite(iv.hi)) rel = (iv.lo + iv.hi) / 2;
      else if (Number.isFinite(iv.hi)) rel = prior === undefined ? iv.hi : Math.min(prior - ox.offsetNs, iv.hi);
      else rel = prior === undefined ? iv.lo : Math.max(prior - ox.offsetNs, iv.lo);
      const minNs = ox.minNs + iv.lo;
      const maxNs = ox.maxNs + iv.hi;
      out.set(y, {
        node: y,
        offsetNs: ox.offsetNs + rel,
        minNs,
        maxNs,
        precisionNs: (maxNs - minNs) / 2,
        crossings: iv.n,
        via: x,
        consistent: consistent && ox.consistent,
      });
      queue.push(y);
    }
  }
  for (const n of nodes) {
    if (!out.has(n))
      out.set(n, {
        node: n,
        offsetNs: prior ?? 0,
        minNs: -Infinity,
        maxNs: Infinity,
        precisionNs: Infinity,
        crossings: 0,
        consistent: true,
      });
  }
  return out;
}
