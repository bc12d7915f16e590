/**
 * The DNAT scenarios the end-to-end tests share: an address nsA routes through nsB, and an
 * iptables DNAT rule that rewrites it to nsB's own address, so a filter on the pre-NAT address
 * loses the packet once the rule ran.
 */
import { iptables } from './kernel.js';
import type { NetnsPair } from './netns.js';

/**
 * A virtual address, 10.`<net>`.`<pair>`.`<host>` (the pair's own third octet), that nsA routes
 * via nsB; returns it. Nobody holds it: only a DNAT rule makes packets to it arrive.
 */
export function routeVirtualAddress(net: NetnsPair, octet: number, host: number): string {
  const virtual = net.b.replace(/^10\.231\.(\d+)\.2$/, `10.${octet}.$1.${host}`);
  net.exec(net.nsA, ['ip', 'route', 'add', `${virtual}/32`, 'via', net.b]);
  return virtual;
}

/** A DNAT rule for {@link addDnat}: TCP to `destination:port` becomes nsB's address, port `toPort`. */
export interface DnatRule {
  /**
   * Where the rule sits: `PREROUTING` in nsB rewrites packets as they arrive from nsA; `OUTPUT`
   * in nsA rewrites them before they leave, before the first skb tracepoint a local packet meets.
   */
  readonly chain: 'PREROUTING' | 'OUTPUT';
  /** The address rewritten (default: any). */
  readonly destination?: string;
  readonly port: number;
  /** The port it becomes (default `port`). */
  readonly toPort?: number;
}

/** Appends the rule with the iptables flavour this kernel takes. */
export function addDnat(net: NetnsPair, rule: DnatRule): void {
  const ns = rule.chain === 'PREROUTING' ? net.nsB : net.nsA;
  const ipt = iptables((argv) => net.exec(ns, argv)).v4;
  const to = `${net.b}:${rule.toPort ?? rule.port}`;
  net.exec(ns, [
    ...[ipt, '-w', '10', '-t', 'nat', '-A', rule.chain, ...(rule.destination ? ['-d', rule.destination] : [])],
    ...['-p', 'tcp', '--dport', `${rule.port}`, '-j', 'DNAT', '--to-destination', to],
  ]);
}
