import type { SkbTracepoint } from '../discovery/tracepoints.js';

/** Tracepoints one shared raw tracepoint program serves: the same skb and drop-reason arguments. */
export interface TracepointGroup {
  /** 0-based context index of the `struct sk_buff *` argument, the same in every member. */
  readonly skbArg: number;
  /** 0-based context index of the `enum skb_drop_reason` argument, if the members have one. */
  readonly reasonArg?: number;
  /** The members with their site indexes (the BPF cookie each attachment carries). */
  readonly members: ReadonlyArray<{ readonly tracepoint: SkbTracepoint; readonly site: number }>;
}

/**
 * Groups `tracepoints` (site i is tracepoints[i]) by where their skb and drop reason sit, in
 * order of first appearance: a raw tracepoint program is not bound to one tracepoint at load, so
 * with BPF cookies (6.10+) each group needs one verifier load instead of one per tracepoint.
 */
export function groupTracepoints(tracepoints: readonly SkbTracepoint[]): TracepointGroup[] {
  const groups = new Map<
    string,
    { skbArg: number; reasonArg?: number; members: TracepointGroup['members'][number][] }
  >();
  tracepoints.forEach((tracepoint, site) => {
    const key = `${tracepoint.skbArg}/${tracepoint.reasonArg ?? ''}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        skbArg: tracepoint.skbArg,
        ...(tracepoint.reasonArg !== undefined ? { reasonArg: tracepoint.reasonArg } : {}),
        members: [],
      };
      groups.set(key, g);
    }
    g.members.push({ tracepoint, site });
  });
  return [...groups.values()];
}
