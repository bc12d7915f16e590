import type { EventNetfilter } from './section.js';

/**
 * Netfilter verdicts (`NF_DROP`... of `include/uapi/linux/netfilter.h`: macros, so not in BTF),
 * the low byte of a hook function's return value.
 */
export const NF_VERDICTS: ReadonlyMap<number, string> = new Map([
  [0, 'DROP'],
  [1, 'ACCEPT'],
  [2, 'STOLEN'],
  [3, 'QUEUE'],
  [4, 'REPEAT'],
  [5, 'STOP'],
]);

/** `NFPROTO_*` (uapi macros). */
const FAMILIES: Record<number, string> = { 1: 'inet', 2: 'ipv4', 3: 'arp', 5: 'netdev', 7: 'bridge', 10: 'ipv6' };

/** `enum nf_inet_hooks` as iptables names its built-in chains. */
const INET_HOOKS = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'];

/** The family name (`ipv4`), or the number. */
export function nfFamilyName(pf: number): string {
  return FAMILIES[pf] ?? String(pf);
}

/** The hook name (`OUTPUT`) for IPv4/IPv6/bridge hooks, else the number. */
export function nfHookName(pf: number, hook: number): string {
  return (pf === 2 || pf === 10 || pf === 7 ? INET_HOOKS[hook] : undefined) ?? String(hook);
}

/**
 * The verdict as text: `DROP`, `ACCEPT`, `QUEUE:3` (the queue number), or a drop with its errno,
 * `DROP:-1`: `NF_DROP_ERR` keeps `-errno` above bit 16 of `NF_DROP`, and since Linux 6.8 a walker
 * that drops frees the skb itself and returns `NF_STOLEN` with `errno` above bit 16
 * (`NF_DROP_REASON`), which the hook turns into `-errno`: a drop, not a steal.
 */
export function nfVerdictName(v: number): string {
  const low = v & 0xff;
  const high = v >>> 16;
  if (high !== 0 && low === 0) return `DROP:${high - 0x10000}`;
  if (high !== 0 && low === 2) return `DROP:-${high}`;
  const name = NF_VERDICTS.get(low) ?? `0x${low.toString(16)}`;
  return high === 0 ? name : `${name}:${high}`;
}

/** Text after FUNC: `nf=ipv4:OUTPUT iptables:filter verdict=DROP`, nftables as `nftables:TABLE/CHAIN`. */
export function netfilterText(nf: EventNetfilter): string {
  const where = nf.chain !== undefined ? `${nf.table}/${nf.chain}` : nf.table;
  const v = nf.verdict !== undefined ? ` verdict=${nfVerdictName(nf.verdict)}` : '';
  return `nf=${nfFamilyName(nf.pf)}:${nfHookName(nf.pf, nf.hook)} ${nf.engine}:${where}${v}`;
}

/** The `netfilter` object of `--output-json` (and of `trace()` events). */
export interface JsonNetfilter {
  /** `iptables`, `ip6tables` (legacy x_tables) or `nftables` (also iptables-nft). */
  engine: string;
  /** `ipv4`, `ipv6`... (`nf_hook_state.pf`). */
  family: string;
  /** `PREROUTING`, `INPUT`, `FORWARD`, `OUTPUT`, `POSTROUTING`. */
  hook: string;
  table: string;
  /** nftables: the base chain (jumps happen inside it, unseen). */
  chain?: string;
  /** `DROP`, `ACCEPT`, `STOLEN`, `QUEUE`, `REPEAT`, `STOP`. */
  verdict?: string;
  verdict_value?: number;
}

/** The `netfilter` object for an event. */
export function netfilterJson(nf: EventNetfilter): JsonNetfilter {
  return {
    engine: nf.engine,
    family: nfFamilyName(nf.pf),
    hook: nfHookName(nf.pf, nf.hook),
    table: nf.table,
    ...(nf.chain !== undefined ? { chain: nf.chain } : {}),
    ...(nf.verdict !== undefined ? { verdict: nfVerdictName(nf.verdict), verdict_value: nf.verdict } : {}),
  };
}
