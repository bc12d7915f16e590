/**
 * One node's pwru JSON event stream, read for the cross-node timeline: each line is either a
 * pwru `--output-json` event or a clock reference (`pwru timeline clock` prints one), which maps
 * the node's monotonic clock (the clock of `--timestamp current`) to its wall clock.
 */
import type { JsonEvent, JsonTuple } from '../output/json.js';
import { PwruError } from '../errors.js';

/** A stream the timeline cannot read; the message says what to do. */
export class TimelineError extends PwruError {
  override name = 'TimelineError';
}

/**
 * `{"pwru_clock":{...}}`: at one instant, the node's wall clock (ns since the epoch, a decimal
 * string since it exceeds 2^53) and its monotonic clock (ns, `bpf_ktime_get_ns`'s clock).
 */
export interface ClockReference {
  readonly node?: string;
  readonly realtimeNs: bigint;
  readonly monotonicNs: number;
}

/**
 * Fields that identify a packet on the wire beyond the tuple, as pwru's `--output-json` puts them
 * in the tuple object (see `wire/section.ts`). The join keys on every one an event has but
 * `data_hash`, which only has to agree where both sides have it.
 */
export const WIRE_ID_FIELDS = ['ip_id', 'ip_len', 'seq', 'ack', 'data_hash'] as const;

/** The tuple of an event, with the optional wire identifiers of {@link WIRE_ID_FIELDS}. */
export type WireTuple = JsonTuple & Partial<Record<(typeof WIRE_ID_FIELDS)[number], number | string>>;

/** One event of one node, its time on that node's clock. */
export interface NodeEvent {
  readonly node: string;
  /** Position in the node's stream (0-based, events only). */
  readonly index: number;
  /** Nanoseconds on the node's clock: wall-clock ns since {@link TimeBase} when a reference is known. */
  readonly t: number;
  /** The function name without a drop reason suffix. */
  readonly base: string;
  /** The drop reason pwru appended to FUNC (`SKB_DROP_REASON_NETFILTER_DROP`), if any. */
  readonly reason?: string;
  readonly tuple?: WireTuple;
  /** The pod (`namespace/name`) whose network namespace the event was in, from the stream's `pwru_pods` line. */
  readonly pod?: string;
  readonly json: JsonEvent;
}

/** How an event's time was read. */
export type TimeSource = 'monotonic+reference' | 'monotonic' | 'absolute';

/** A parsed stream. */
export interface NodeStream {
  readonly node: string;
  readonly events: NodeEvent[];
  readonly clock?: ClockReference;
  /** How times were read; `absolute` times have a 1 ms resolution. */
  readonly timeSource?: TimeSource;
}

/**
 * Wall-clock times are kept as ns after this instant (the earliest clock reference), so they
 * fit a double exactly.
 */
export interface TimeBase {
  realtimeNs: bigint | undefined;
}

const FUNC_REASON = /^([^( ]+)(?:\(([^)]*)\)| \((\d+)\))?$/;

/** Splits `kfree_skb_reason(SKB_DROP_REASON_NETFILTER_DROP)` into name and reason. */
export function splitFunc(func: string): { base: string; reason?: string } {
  const m = FUNC_REASON.exec(func);
  if (!m) return { base: func };
  const reason = m[2] ?? m[3];
  return reason === undefined ? { base: m[1]! } : { base: m[1]!, reason };
}

/** Parses a `pwru_clock` line's object, or throws {@link TimelineError}. */
export function parseClockReference(v: unknown, where: string): ClockReference {
  const o = v as Record<string, unknown>;
  const rt = o?.realtime_ns;
  const mono = o?.monotonic_ns;
  if ((typeof rt !== 'string' && typeof rt !== 'number') || !/^\d+$/.test(String(rt)) || typeof mono !== 'number') {
    throw new TimelineError(
      `${where}: a pwru_clock line needs "realtime_ns" (decimal string) and "monotonic_ns" (number): print it with \`pwru timeline clock\``,
    );
  }
  const node = typeof o.node === 'string' && o.node !== '' ? o.node : undefined;
  return { ...(node ? { node } : {}), realtimeNs: BigInt(rt), monotonicNs: mono };
}

/** Go's `2006-01-02T15:04:05.000` (pwru `--timestamp absolute`, local time) as epoch ns. */
function absoluteNs(s: string): bigint | undefined {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})$/.exec(s);
  if (!m) return undefined;
  const d = new Date(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!);
  return BigInt(d.getTime()) * 1_000_000n;
}

/**
 * Incremental reader of one node's stream: feed it lines (a whole file, or lines as a followed
 * file grows) and it keeps the parsed events.
 */
export class StreamReader {
  readonly events: NodeEvent[] = [];
  clock: ClockReference | undefined;
  timeSource: TimeSource | undefined;
  /** Pods by network namespace inode, from `pwru_pods` lines. */
  readonly pods = new Map<number, string>();
  private line = 0;

  constructor(
    /** The node's label (from the command line, or the clock reference's `node`). */
    public node: string,
    private readonly base: TimeBase,
    /** Names the stream in errors (its file). */
    private readonly where: string,
    /** The label when `node` is empty and no clock reference names the node before its first event. */
    private readonly fallbackNode = where,
  ) {}

  /** Parses one line; blank lines and non-JSON noise (kubectl's, pwru's log lines) are skipped. */
  push(text: string): void {
    this.line++;
    const s = text.trim();
    if (s === '' || s[0] !== '{') return;
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(s) as Record<string, unknown>;
    } catch {
      throw new TimelineError(
        `${this.where}:${this.line}: not a JSON line: run pwru with --output-json and collect its stdout only`,
      );
    }
    if (v.pwru_clock !== undefined) {
      this.setClock(parseClockReference(v.pwru_clock, `${this.where}:${this.line}`));
      return;
    }
    if (v.pwru_pods !== undefined) {
      const pods = (v.pwru_pods as { pods?: unknown }).pods;
      if (typeof pods !== 'object' || pods === null)
        throw new TimelineError(
          `${this.where}:${this.line}: a pwru_pods line needs "pods": print it with \`pwru timeline pods\``,
        );
      for (const [ino, pod] of Object.entries(pods))
        if (/^\d+$/.test(ino) && typeof pod === 'string') this.pods.set(Number(ino), pod);
      return;
    }
    if (typeof v.func !== 'string' || typeof v.skb !== 'string') return;
    this.addEvent(v as unknown as JsonEvent);
  }

  private setClock(ref: ClockReference): void {
    if (this.clock) return; // the first reference of a stream is the one its times were taken against
    this.clock = ref;
    if (ref.node && this.node === '') this.node = ref.node;
    // The first reference read sets the base; an earlier one of another stream gives negative times.
    this.base.realtimeNs ??= ref.realtimeNs;
  }

  private addEvent(j: JsonEvent): void {
    if (this.node === '') this.node = this.fallbackNode;
    const where = `${this.where}:${this.line}`;
    let t: number;
    if (typeof j.time === 'number') {
      this.timeSource ??= this.clock ? 'monotonic+reference' : 'monotonic';
      t =
        this.clock && this.base.realtimeNs !== undefined
          ? Number(this.clock.realtimeNs - this.base.realtimeNs) + (j.time - this.clock.monotonicNs)
          : j.time;
    } else if (typeof j.time === 'string') {
      const ns = absoluteNs(j.time);
      if (ns === undefined)
        throw new TimelineError(
          `${where}: time "${j.time}" is relative or unknown: run pwru with --timestamp current (or absolute)`,
        );
      this.timeSource ??= 'absolute';
      this.base.realtimeNs ??= ns;
      t = Number(ns - this.base.realtimeNs);
    } else {
      throw new TimelineError(
        `${where}: the event has no time: run pwru with --timestamp current (and a clock reference) or --timestamp absolute`,
      );
    }
    const { base, reason } = splitFunc(j.func);
    const pod = j.netns !== undefined ? this.pods.get(j.netns) : undefined;
    this.events.push({
      node: this.node,
      index: this.events.length,
      t,
      base,
      ...(reason !== undefined ? { reason } : {}),
      ...(j.tuple ? { tuple: j.tuple as WireTuple } : {}),
      ...(pod !== undefined ? { pod } : {}),
      json: j,
    });
  }

  /** The stream so far. */
  stream(): NodeStream {
    return {
      node: this.node,
      events: this.events,
      ...(this.clock ? { clock: this.clock } : {}),
      ...(this.timeSource ? { timeSource: this.timeSource } : {}),
    };
  }
}

/** Reads whole streams given as text (tests, files read at once). */
export function readStreams(inputs: readonly { node: string; text: string; where?: string }[]): NodeStream[] {
  const base: TimeBase = { realtimeNs: undefined };
  // Clock references first, so every stream's times share the earliest reference as their base.
  for (const inp of inputs) {
    for (const line of inp.text.split('\n')) {
      if (!line.includes('"pwru_clock"')) continue;
      let v: { pwru_clock?: unknown };
      try {
        v = JSON.parse(line) as { pwru_clock?: unknown };
      } catch {
        continue; // the reader below reports the line
      }
      if (v.pwru_clock === undefined) continue;
      const ref = parseClockReference(v.pwru_clock, inp.where ?? inp.node);
      if (base.realtimeNs === undefined || ref.realtimeNs < base.realtimeNs) base.realtimeNs = ref.realtimeNs;
      break;
    }
  }
  return inputs.map((inp) => {
    const r = new StreamReader(inp.node, base, inp.where ?? inp.node);
    for (const line of inp.text.split('\n')) r.push(line);
    return r.stream();
  });
}
