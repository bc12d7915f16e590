/**
 * `pwru timeline clock`: one `pwru_clock` line that maps this machine's monotonic clock (the
 * clock of pwru's `--timestamp current`, `bpf_ktime_get_ns`) to its wall clock, printed before
 * pwru starts so a node's stream can be put on the wall clock.
 */

/**
 * Samples the wall clock and the monotonic clock at the same instant: waits for the wall clock's
 * millisecond to turn (at most 1 ms) and reads the monotonic clock right then, so the pair is
 * good to a few microseconds although `Date.now()` counts milliseconds.
 */
export function sampleClocks(): { realtimeNs: bigint; monotonicNs: bigint } {
  const start = Date.now();
  let now = start;
  let mono = process.hrtime.bigint();
  while (now === start) {
    mono = process.hrtime.bigint();
    now = Date.now();
  }
  return { realtimeNs: BigInt(now) * 1_000_000n, monotonicNs: mono };
}

/** The `pwru_clock` JSON line (with its newline). */
export function clockReferenceLine(node: string | undefined): string {
  const { realtimeNs, monotonicNs } = sampleClocks();
  const o: Record<string, unknown> = {};
  if (node) o.node = node;
  o.realtime_ns = String(realtimeNs);
  o.monotonic_ns = Number(monotonicNs);
  return JSON.stringify({ pwru_clock: o }) + '\n';
}
