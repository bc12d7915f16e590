import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trace, type TraceEvent } from '../../src/index.js';
import { bpfIdsOf, e2eSkipReason, NetnsPair } from './netns.js';

// The programmatic API against the real kernel (tracepoint backend on this machine), with traffic
// only between two namespaces the test creates.
const skip = e2eSkipReason();
if (skip) console.log(`skipped: trace() API end-to-end test ${skip}`);

describe.skipIf(skip !== undefined)('trace() on the real kernel', () => {
  let net: NetnsPair;
  beforeAll(() => {
    net = new NetnsPair();
    net.exec(net.nsB, ['iptables', '-w', '10', '-I', 'INPUT', '1', '-p', 'tcp', '--dport', '8080', '-j', 'DROP']);
  });
  afterAll(() => net?.destroy());

  it('yields the drop of a SYN to a firewalled port as a typed event, then releases every program and link', async () => {
    const before = bpfIdsOf(process.pid);
    let during = { progs: [] as number[], links: [] as number[] };
    const stop = AbortSignal.timeout(20_000);
    let drop: TraceEvent | undefined;
    for await (const ev of trace(
      { backend: 'tracepoint', filterPcap: `dst host ${net.b} and tcp dst port 8080` },
      {
        signal: stop,
        onAttached: () => {
          during = bpfIdsOf(process.pid);
          net.connect(net.b, 8080);
        },
      },
    )) {
      if (ev.func === 'kfree_skb(SKB_DROP_REASON_NETFILTER_DROP)') {
        drop = ev;
        break;
      }
    }
    expect(drop, 'no drop event before the timeout').toBeDefined();
    expect(drop!.tuple).toMatchObject({ saddr: net.a, daddr: net.b, dport: 8080, proto: 6 });
    expect(drop!.raw.meta?.len).toBeGreaterThan(0);
    expect(during.links.length).toBeGreaterThan(before.links.length);
    const after = bpfIdsOf(process.pid);
    expect(after.links).toEqual(before.links);
    expect(after.progs).toEqual(before.progs);
  });
});
