import { type Btf, enumMap } from 'btf-parser';
import type { Addr64 } from './event.js';
import type { Ksyms } from './ksyms.js';
import { InterfaceCache, netnsNames } from './netns.js';
import type { OutputContext, ProbeSite } from './output/context.js';
import { processName } from './process.js';
import { ctNames } from './ct/names.js';

/** `enum skb_drop_reason` value → name (empty when the kernel has no drop reasons). */
export function dropReasons(btf: Btf): Map<number, string> {
  const out = new Map<number, string>();
  if (!btf.findType('skb_drop_reason', 'enum')) return out;
  for (const [v, name] of enumMap(btf, 'skb_drop_reason')) out.set(Number(v), name);
  return out;
}

/** Converts `bpf_ktime_get_ns()` (CLOCK_MONOTONIC) to wall-clock milliseconds. */
export function monotonicToWallClock(): (ns: number) => number {
  const offsetMs = Date.now() - Number(process.hrtime.bigint()) / 1e6;
  return (ns) => offsetMs + ns / 1e6;
}

/** The lookups a live run's printers use. */
export function liveContext(o: {
  sites: readonly ProbeSite[];
  ksyms: Ksyms | undefined;
  btf: Btf;
  stack: (id: number) => readonly Addr64[];
  netnsNames: boolean;
}): OutputContext {
  const ifaces = new InterfaceCache();
  const names = o.netnsNames ? netnsNames() : new Map<number, string>();
  const none = (): undefined => undefined;
  return {
    sites: o.sites,
    symbols: o.ksyms ?? { exact: none, nearest: none },
    dropReasons: dropReasons(o.btf),
    ct: ctNames(o.btf),
    processName: (pid, comm) => processName(pid, comm),
    ifaceName: (netns, ifindex) => ifaces.name(netns, ifindex),
    netnsName: (netns) => names.get(netns),
    stack: o.stack,
    wallClockMs: monotonicToWallClock(),
  };
}
