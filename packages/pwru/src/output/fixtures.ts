import { EventKind, type Addr64, type PwruEvent } from '../event.js';
import type { OutputContext, ProbeSite } from './context.js';
import type { OutputOptions } from './options.js';

/** Upstream's default output switches (meta and tuple on). */
export const DEFAULT_OUTPUT: OutputOptions = {
  outputMeta: true,
  outputTuple: true,
  outputTcpFlags: false,
  outputTunnel: false,
  outputStack: false,
  outputCaller: false,
  outputSkbCb: false,
  outputNetnsNames: false,
  netnsNamesMaxLength: 16,
  timestamp: 'none',
};

const key = (a: Addr64): string => `${a.hi}:${a.lo}`;

/** A context with fixed symbols, processes and interfaces, for printer tests and benchmarks. */
export function fakeContext(over: Partial<OutputContext> = {}, sites: ProbeSite[] = [{}]): OutputContext {
  const syms = new Map<string, string>([
    [key({ hi: 0xffffffff, lo: 0x81000000 }), 'kfree_skb_reason'],
    [key({ hi: 0xffffffff, lo: 0x81000100 }), 'tcp4_gro_receive'],
    [key({ hi: 0xffffffff, lo: 0x81000200 }), 'ip_rcv'],
  ]);
  return {
    sites,
    symbols: {
      exact: (a) => syms.get(key(a)),
      nearest: (a) =>
        a.hi === 0xffffffff && a.lo >= 0x81000200
          ? 'ip_rcv'
          : a.hi === 0xffffffff && a.lo >= 0x81000000
            ? 'kfree_skb_reason'
            : undefined,
    },
    dropReasons: new Map([
      [2, 'SKB_DROP_REASON_NOT_SPECIFIED'],
      [12, 'SKB_DROP_REASON_NETFILTER_DROP'],
    ]),
    processName: (pid) => (pid === 0 ? '<empty>:0' : pid === 3378123 ? `/usr/bin/curl:${pid}` : `curl:${pid}`),
    ifaceName: (netns, ifindex) => (ifindex === 2 ? (netns === 4026531840 ? 'eth0' : 'ens33') : undefined),
    netnsName: () => undefined,
    stack: () => [
      { hi: 0xffffffff, lo: 0x81000210 },
      { hi: 0xffffffff, lo: 0x81000010 },
    ],
    wallClockMs: (ns) => ns / 1e6,
    ...over,
  };
}

/** The event of upstream's example line: curl's SYN to 1.0.0.1:8080 dropped by iptables. */
export const CURL_DROP: PwruEvent = {
  skb: { hi: 0xffff8bb7, lo: 0x038b6900 },
  addr: { hi: 0xffffffff, lo: 0x81000000 },
  ts: 1_000_000_000,
  p2: 12,
  p3: 0,
  pid: 3378123,
  comm: 'curl',
  flags: 0,
  cpu: 3,
  site: 0,
  kind: EventKind.KprobeMulti,
  meta: { netns: 4026531840, mark: 0, ifindex: 2, len: 60, mtu: 1500, proto: 0x0800 },
  cb: [0, 0, 0x14, 6, 0x60001],
  tuple: { saddr: '10.0.0.232', daddr: '1.0.0.1', sport: 49460, dport: 8080, l3: 0x0800, l4: 6, flags: 0x02 },
  stackId: 7,
  caller: { hi: 0xffffffff, lo: 0x81000250 },
};
