/**
 * `--output-summary`: "where did my packets die?" at a glance. Counts every traced event by
 * function and every drop by its reason (`kfree_skb` tracepoint, `kfree_skb_reason`,
 * `sk_skb_reason_drop`), and with `--output-summary-by-tuple` per L3/L4 tuple, then renders the
 * tables at exit, as text or as one JSON line.
 */
import { EventKind, type EventTuple, type PwruEvent } from '../event.js';
import { dropReasonValue, FuncNameCache, type OutputContext } from './context.js';
import { formatTuple } from './tuple.js';
import type { JsonTuple } from './json.js';

/** `SKB_CONSUMED` is passed to the same functions by normal frees: it is not a drop. */
const NOT_A_DROP = 'SKB_CONSUMED';

/** How many distinct tuples are kept; later ones are counted together as "other tuples". */
export const MAX_SUMMARY_TUPLES = 10_000;

/** Options of a summary. */
export interface SummaryOptions {
  /** Also count per tuple (`--output-summary-by-tuple`). */
  readonly byTuple: boolean;
  /** Tuples kept before the rest are lumped together (default {@link MAX_SUMMARY_TUPLES}). */
  readonly maxTuples?: number;
}

/** One tuple's counts. */
export interface TupleSummary {
  readonly tuple: EventTuple;
  events: number;
  drops: number;
  /** The function of this tuple's latest event: where its last packet was last seen. */
  lastFunc: string;
  readonly reasons: Map<string, number>;
}

/** What a summary found, sorted for display. */
export interface SummaryResult {
  readonly events: number;
  readonly drops: number;
  /** Events the kernel could not hand over (ring buffer full), if known. */
  readonly lost?: number;
  /** By hits, most first (ties by name). */
  readonly functions: ReadonlyArray<{ readonly func: string; readonly hits: number }>;
  /** By count, most first (ties by name). */
  readonly dropReasons: ReadonlyArray<{ readonly reason: string; readonly count: number }>;
  /** With `byTuple`: by drops, then events, most first. */
  readonly tuples?: readonly TupleSummary[];
  /** Events of tuples beyond the kept maximum. */
  readonly otherTupleEvents?: number;
}

/** The `summary` object of the JSON line. */
export interface JsonSummary {
  events: number;
  drops: number;
  lost?: number;
  functions: Array<{ func: string; hits: number }>;
  drop_reasons: Array<{ reason: string; count: number }>;
  tuples?: Array<{
    tuple: JsonTuple;
    events: number;
    drops: number;
    last_func: string;
    drop_reasons: Array<{ reason: string; count: number }>;
  }>;
  other_tuple_events?: number;
}

const byCount = <T extends { name: string; n: number }>(a: T, b: T): number =>
  b.n - a.n || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function sorted(m: ReadonlyMap<string, number>): Array<{ name: string; n: number }> {
  return [...m].map(([name, n]) => ({ name, n })).sort(byCount);
}

/** Counts events for `--output-summary`. */
export class TraceSummary {
  private events = 0;
  private drops = 0;
  private readonly funcs = new Map<string, number>();
  private readonly reasons = new Map<string, number>();
  private readonly tuples = new Map<string, TupleSummary>();
  private otherTupleEvents = 0;
  private readonly names = new FuncNameCache();

  constructor(
    private readonly ctx: OutputContext,
    private readonly opts: SummaryOptions,
  ) {}

  /** The drop reason's name (`name (N)` when BTF does not name it), as the FUNC column shows it. */
  private reasonName(value: number): string {
    return this.ctx.dropReasons.get(value) ?? `unknown (${value})`;
  }

  /** Counts one event (a call: `--output-return`'s return events are not counted again). */
  add(ev: PwruEvent): void {
    if (ev.kind === EventKind.Return) return;
    this.events++;
    const func = this.names.base(ev, this.ctx);
    this.funcs.set(func, (this.funcs.get(func) ?? 0) + 1);
    const value = dropReasonValue(func, ev, this.ctx);
    let reason: string | undefined;
    if (value !== undefined) {
      reason = this.reasonName(value);
      if (reason === NOT_A_DROP) reason = undefined;
      else {
        this.drops++;
        this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
      }
    }
    if (!this.opts.byTuple || !ev.tuple) return;
    const key = formatTuple(ev.tuple, false);
    let t = this.tuples.get(key);
    if (!t) {
      if (this.tuples.size >= (this.opts.maxTuples ?? MAX_SUMMARY_TUPLES)) {
        this.otherTupleEvents++;
        return;
      }
      t = { tuple: ev.tuple, events: 0, drops: 0, lastFunc: func, reasons: new Map() };
      this.tuples.set(key, t);
    }
    t.events++;
    t.lastFunc = func;
    if (reason !== undefined) {
      t.drops++;
      t.reasons.set(reason, (t.reasons.get(reason) ?? 0) + 1);
    }
  }

  /** The counts so far, sorted; `lost` is the ring buffer's loss counter, if the caller has it. */
  result(lost?: number): SummaryResult {
    const tuples = this.opts.byTuple
      ? [...this.tuples.values()].sort((a, b) => b.drops - a.drops || b.events - a.events)
      : undefined;
    return {
      events: this.events,
      drops: this.drops,
      ...(lost !== undefined ? { lost } : {}),
      functions: sorted(this.funcs).map(({ name, n }) => ({ func: name, hits: n })),
      dropReasons: sorted(this.reasons).map(({ name, n }) => ({ reason: name, count: n })),
      ...(tuples ? { tuples, otherTupleEvents: this.otherTupleEvents } : {}),
    };
  }
}

function table(head: readonly string[], rows: ReadonlyArray<readonly string[]>, numeric: ReadonlySet<number>): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) =>
        i === cells.length - 1 && !numeric.has(i) ? c : numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!),
      )
      .join('  ')
      .trimEnd() + '\n';
  return line(head) + rows.map(line).join('');
}

const reasonList = (m: ReadonlyMap<string, number>): string =>
  sorted(m)
    .map(({ name, n }) => `${name}=${n}`)
    .join(',');

/** The summary as text tables (a blank line before each table). */
export function formatSummaryText(r: SummaryResult): string {
  let s = `\nSUMMARY: ${r.events} events, ${r.drops} drops`;
  if (r.lost !== undefined && r.lost > 0) s += `, ${r.lost} events lost (ring buffer full)`;
  s += '\n\n';
  s += table(
    ['FUNCTION', 'HITS'],
    r.functions.map((f) => [f.func, String(f.hits)]),
    new Set([1]),
  );
  s += '\n';
  if (r.dropReasons.length === 0) s += 'No drops seen.\n';
  else
    s += table(
      ['DROP REASON', 'COUNT'],
      r.dropReasons.map((d) => [d.reason, String(d.count)]),
      new Set([1]),
    );
  if (r.tuples) {
    s += '\n';
    s += table(
      ['TUPLE', 'EVENTS', 'DROPS', 'LAST FUNC', 'DROP REASONS'],
      r.tuples.map((t) => [
        formatTuple(t.tuple, false),
        String(t.events),
        String(t.drops),
        t.lastFunc,
        reasonList(t.reasons),
      ]),
      new Set([1, 2]),
    );
    if (r.otherTupleEvents) s += `(${r.otherTupleEvents} events of further tuples not counted per tuple)\n`;
  }
  return s;
}

const jsonTuple = (t: EventTuple): JsonTuple => ({
  saddr: t.saddr,
  daddr: t.daddr,
  sport: t.sport,
  dport: t.dport,
  proto: t.l4,
});

/** The summary as the object of the final JSON line (`{"summary":{...}}`). */
export function summaryJson(r: SummaryResult): JsonSummary {
  const out: JsonSummary = {
    events: r.events,
    drops: r.drops,
    ...(r.lost !== undefined ? { lost: r.lost } : {}),
    functions: r.functions.map((f) => ({ func: f.func, hits: f.hits })),
    drop_reasons: r.dropReasons.map((d) => ({ reason: d.reason, count: d.count })),
  };
  if (r.tuples) {
    out.tuples = r.tuples.map((t) => ({
      tuple: jsonTuple(t.tuple),
      events: t.events,
      drops: t.drops,
      last_func: t.lastFunc,
      drop_reasons: sorted(t.reasons).map(({ name, n }) => ({ reason: name, count: n })),
    }));
    if (r.otherTupleEvents) out.other_tuple_events = r.otherTupleEvents;
  }
  return out;
}

/** The summary as one JSON line with its newline. */
export function formatSummaryJson(r: SummaryResult): string {
  return JSON.stringify({ summary: summaryJson(r) }) + '\n';
}
