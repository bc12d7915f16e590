/**
 * One hop of a packet's path: an event as `--output-json` prints it (the live view converts
 * decoded events to the same objects, so a saved JSON file gives exactly the live view).
 */
import { PwruError } from '../errors.js';

/** The fields of an `--output-json` event the per-packet view reads. */
export interface JsonHop {
  readonly skb: string;
  readonly cpu?: number;
  readonly process?: string;
  readonly func: string;
  /** The raw `bpf_ktime_get_ns()` with `--timestamp current` (other modes give no latency). */
  readonly time?: number | string;
  readonly netns?: number;
  readonly netns_name?: string;
  readonly mark?: number;
  readonly iface?: string;
  readonly len?: number;
  readonly tuple?: {
    readonly saddr: string;
    readonly daddr: string;
    readonly sport: number;
    readonly dport: number;
    readonly proto: number;
  };
  /** A return event's value (`--output-return`). */
  readonly return?: string;
}

/** A hop, with the FUNC column split into the function and its drop reason. */
export interface Hop {
  readonly skb: string;
  /** The function or tracepoint, without the drop reason. */
  readonly func: string;
  /** The drop reason (`SKB_DROP_REASON_NETFILTER_DROP`), when the function carries one. */
  readonly reason?: string;
  /** Monotonic nanoseconds, when the events carry them. */
  readonly ts?: number;
  readonly cpu?: number;
  readonly process?: string;
  readonly netns?: number;
  readonly mark?: number;
  readonly iface?: string;
  readonly len?: number;
  /** `10.0.0.1:4242->10.0.0.2:80(tcp)`, as pwru prints it. */
  readonly tuple?: string;
  /** The return value of a return event. */
  readonly ret?: string;
}

const PROTO: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmp6', 132: 'sctp' };

/** The tuple as pwru's text output prints it (IPv6 in brackets). */
export function tupleText(t: NonNullable<JsonHop['tuple']>): string | undefined {
  if (t.saddr === '' && t.daddr === '') return undefined;
  const addr = (a: string): string => (a.includes(':') ? `[${a}]` : a);
  return `${addr(t.saddr)}:${t.sport}->${addr(t.daddr)}:${t.dport}(${PROTO[t.proto] ?? String(t.proto)})`;
}

/** Splits `kfree_skb(SKB_DROP_REASON_X)` (or upstream's `kfree_skb_reason (123)`) into function and reason. */
export function splitFunc(func: string): { func: string; reason?: string } {
  const m = /^(.*?)(?:\((SKB_[A-Z0-9_]+)\)| \((\d+)\))$/.exec(func);
  if (!m) return { func };
  return { func: m[1]!, reason: m[2] ?? m[3]! };
}

/** A hop from one `--output-json` object; `where` names it in errors (`events.json:12`). */
export function hopFromJson(o: unknown, where: string): Hop {
  if (typeof o !== 'object' || o === null || Array.isArray(o))
    throw new PwruError(`${where}: not a pwru --output-json event (an object was expected)`);
  const j = o as Partial<JsonHop>;
  if (typeof j.skb !== 'string' || typeof j.func !== 'string')
    throw new PwruError(`${where}: not a pwru --output-json event (it has no "skb" and "func")`);
  const { func, reason } = splitFunc(j.func);
  const tuple = j.tuple ? tupleText(j.tuple) : undefined;
  return {
    skb: j.skb,
    func,
    ...(reason !== undefined ? { reason } : {}),
    ...(typeof j.time === 'number' ? { ts: j.time } : {}),
    ...(typeof j.cpu === 'number' ? { cpu: j.cpu } : {}),
    ...(typeof j.process === 'string' ? { process: j.process } : {}),
    ...(typeof j.netns === 'number' ? { netns: j.netns } : {}),
    ...(typeof j.mark === 'number' ? { mark: j.mark } : {}),
    ...(typeof j.iface === 'string' ? { iface: j.iface } : {}),
    ...(typeof j.len === 'number' ? { len: j.len } : {}),
    ...(tuple !== undefined ? { tuple } : {}),
    ...(typeof j.return === 'string' ? { ret: j.return } : {}),
  };
}
