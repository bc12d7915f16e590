import type { Addr64, PwruEvent } from '../event.js';
import { hex64 } from './columns.js';
import type { ReturnFormats } from './retval.js';
import type { CtNames } from '../ct/names.js';

/** A probe site: what the event's `site` index names. */
export interface ProbeSite {
  /**
   * The function or tracepoint name. Absent for kprobe programs shared by many functions: the
   * name then comes from the event's function address through kallsyms.
   */
  readonly name?: string;
  /** Which argument carries a drop reason at this site (`kfree_skb` tracepoint: `p2`). */
  readonly reason?: 'p2' | 'p3';
}

/** Address → kernel symbol lookups (see `Ksyms`). */
export interface Symbolizer {
  /** The symbol starting exactly at `addr` (FUNC column). */
  exact(addr: Addr64): string | undefined;
  /** The nearest symbol at or below `addr`, without offset (stack, caller). */
  nearest(addr: Addr64): string | undefined;
}

/** Everything the printers look up outside the event itself. */
export interface OutputContext {
  readonly sites: readonly ProbeSite[];
  readonly symbols: Symbolizer;
  /** `enum skb_drop_reason` value → name, from BTF. */
  readonly dropReasons: ReadonlyMap<number, string>;
  /**
   * `<exe>:<pid>` (untruncated); for a process gone by now, the command name its event carried
   * (`comm`), else `<empty>:<pid>`.
   */
  processName(pid: number, comm: string): string;
  /** Interface name of `ifindex` in the netns with inode `netns`. */
  ifaceName(netns: number, ifindex: number): string | undefined;
  /** Name of a netns in /run/netns. */
  netnsName(netns: number): string | undefined;
  /** Instruction pointers of a `bpf_get_stackid` id (innermost first); empty if unknown. */
  stack(stackId: number): readonly Addr64[];
  /** Converts an event's monotonic nanoseconds to wall-clock milliseconds since the epoch. */
  wallClockMs(monotonicNs: number): number;
  /** `--output-skb-metadata` fields: the name printed and how its value prints. */
  readonly metadata?: ReadonlyArray<{ readonly field: string; format(v: Addr64): string }>;
  /** `--output-xdp-metadata` fields, printed for XDP events instead of the skb ones. */
  readonly xdpMetadata?: ReadonlyArray<{ readonly field: string; format(v: Addr64): string }>;
  /** `--output-return`: how each traced function's return value prints. */
  readonly returns?: ReturnFormats;
  /** `--output-ct`: conntrack state and status names, from BTF. */
  readonly ct?: CtNames;
}

/** Upstream's drop-reason functions and which argument holds the reason. */
const REASON_FUNCS: ReadonlyMap<string, 'p2' | 'p3'> = new Map([
  ['kfree_skb_reason', 'p2'],
  ['sk_skb_reason_drop', 'p3'],
]);

/**
 * The FUNC column: the site or kallsyms name (`0x...` when unknown), with the drop reason by its
 * BTF enum name — `kfree_skb_reason(SKB_DROP_REASON_NETFILTER_DROP)`, or `kfree_skb_reason (123)`
 * (upstream's space) when the value has no name.
 */
export function funcName(ev: PwruEvent, ctx: OutputContext, hexAddr: (hi: number, lo: number) => string): string {
  const site = ctx.sites[ev.site];
  const name = site?.name ?? ctx.symbols.exact(ev.addr) ?? hexAddr(ev.addr.hi, ev.addr.lo);
  return withDropReason(name, ev, ctx);
}

/**
 * The site or kallsyms name of an event's function (`0x...` when unknown), before the drop
 * reason, for printers on a hot path: kernel-text lookups are cached by the address's low half.
 */
export class FuncNameCache {
  readonly #byLow = new Map<number, string>();

  /** The name {@link funcName} would start from, for `ev` in `ctx`. */
  base(ev: PwruEvent, ctx: OutputContext): string {
    const site = ctx.sites[ev.site]?.name;
    if (site !== undefined) return site;
    if (ev.addr.hi !== 0xffffffff) return ctx.symbols.exact(ev.addr) ?? hex64(ev.addr.hi, ev.addr.lo);
    let name = this.#byLow.get(ev.addr.lo);
    if (name === undefined) {
      name = ctx.symbols.exact(ev.addr) ?? hex64(ev.addr.hi, ev.addr.lo);
      this.#byLow.set(ev.addr.lo, name);
    }
    return name;
  }
}

/**
 * The `enum skb_drop_reason` value an event carries, if its site or function has one (the
 * `kfree_skb` tracepoint, `kfree_skb_reason`, `sk_skb_reason_drop`); `name` is the event's
 * site or function name before any reason.
 */
export function dropReasonValue(name: string, ev: PwruEvent, ctx: OutputContext): number | undefined {
  const site = ctx.sites[ev.site];
  const which = site?.reason ?? (site?.name === undefined ? REASON_FUNCS.get(name) : undefined);
  if (!which) return undefined;
  return which === 'p2' ? ev.p2 : ev.p3;
}

/** Which argument of the function `name` carries an `enum skb_drop_reason`, if any. */
export function dropReasonArg(name: string): 'p2' | 'p3' | undefined {
  return REASON_FUNCS.get(name);
}

/** Appends the drop reason to a site or function name when that site carries one. */
export function withDropReason(name: string, ev: PwruEvent, ctx: OutputContext): string {
  const value = dropReasonValue(name, ev, ctx);
  if (value === undefined) return name;
  const reason = ctx.dropReasons.get(value);
  return reason !== undefined ? `${name}(${reason})` : `${name} (${value})`;
}

/** Go's `2006-01-02T15:04:05.000` in local time. */
export function absoluteTime(ms: number): string {
  const d = new Date(ms);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return (
    `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}T` +
    `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`
  );
}
