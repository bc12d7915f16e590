import { loadKernelBtf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { fakeSession, kfreeEvents } from '../test/fake-session.js';
import { EventKind } from './event.js';
import { Logger } from './log.js';
import { trace, TraceOptionError, traceOptions, type TraceEvent } from './trace.js';

let haveBtf = true;
try {
  loadKernelBtf();
} catch {
  haveBtf = false;
}

async function collect(it: AsyncIterable<TraceEvent>): Promise<TraceEvent[]> {
  const out: TraceEvent[] = [];
  for await (const ev of it) out.push(ev);
  return out;
}

describe('traceOptions: the CLI flags by camel-case name, or the command line itself', () => {
  it('fills in upstream defaults and keeps what was given', () => {
    const o = traceOptions({ filterFunc: 'ip_rcv', outputTcpFlags: true, filterPcap: 'tcp' });
    expect(o.filterFunc).toBe('ip_rcv');
    expect(o.outputTcpFlags).toBe(true);
    expect(o.filterPcap).toBe('tcp');
    expect(o.outputTuple).toBe(true); // upstream's default
    expect(o.filterKprobeBatch).toBe(10);
  });

  it('accepts argv words exactly as the CLI does', () => {
    const o = traceOptions(['--filter-func', 'ip_rcv', '--output-limit-lines=5', 'dst', 'host', '10.0.0.1']);
    expect(o.filterFunc).toBe('ip_rcv');
    expect(o.outputLimitLines).toBe(5);
    expect(o.filterPcap).toBe('dst host 10.0.0.1');
  });

  it('rejects a misspelt option, a wrongly typed value and a bad flag with one-line typed errors', () => {
    expect(() => traceOptions({ filterFunk: 'x' } as never)).toThrow(
      new TraceOptionError(
        'unknown trace option "filterFunk" (options are the CLI\'s flags in camelCase, e.g. filterFunc)',
      ),
    );
    expect(() => traceOptions({ outputTuple: 'yes' } as never)).toThrow('trace option outputTuple must be a boolean');
    expect(() => traceOptions({ kmods: 'nf_conntrack' } as never)).toThrow(
      'trace option kmods must be an array of strings',
    );
    expect(() => traceOptions(['--filter-fucn', 'x'])).toThrow(TraceOptionError);
  });
});

describe.skipIf(!haveBtf)('trace(): typed events from an async iterator (fake kernel session)', () => {
  it('yields the --output-json fields plus the raw record, stops at outputLimitLines, then detaches', async () => {
    const { session, calls, planned } = fakeSession(kfreeEvents(5));
    const events = await collect(trace({ outputLimitLines: 3 }, { session }));
    expect(events).toHaveLength(3);
    expect(events.map((e) => e.cpu)).toEqual([0, 1, 2]);
    expect(events[0]!.func).toBe('kfree_skb(SKB_NOT_DROPPED_YET)');
    expect(events[0]!.skb).toBe('0xffff8bb7038b6900');
    expect(events[0]!.tuple).toEqual({ saddr: '10.1.1.1', daddr: '10.1.1.2', sport: 0, dport: 0, proto: 1 });
    expect(events[0]!.len).toBe(84);
    expect(events[0]!.raw.kind).toBe(EventKind.Tracepoint);
    expect(calls.filter((c) => c.startsWith('detach')).length).toBe(planned.length);
    expect(calls.at(-1)).toBe('close');
  });

  it('ends when the AbortSignal fires, after the events already read, and detaches', async () => {
    const { session, calls } = fakeSession(kfreeEvents(2));
    const ac = new AbortController();
    const seen: number[] = [];
    for await (const ev of trace({}, { session, signal: ac.signal })) {
      seen.push(ev.cpu);
      if (seen.length === 2) setTimeout(() => ac.abort(), 10); // the iterator is now waiting for more
    }
    expect(seen).toEqual([0, 1]);
    expect(calls).toContain('reader closed');
    expect(calls.at(-1)).toBe('close');
  });

  it('leaving the loop early (break) detaches everything', async () => {
    const { session, calls } = fakeSession(kfreeEvents(4));
    for await (const ev of trace({}, { session })) {
      expect(ev.cpu).toBe(0);
      break;
    }
    expect(calls.at(-1)).toBe('close');
  });

  it("rejects on the first next() with the CLI's one-line error, having closed the session", async () => {
    const { session, calls } = fakeSession(kfreeEvents(1));
    const logs: string[] = [];
    await expect(
      collect(trace({ backend: 'kprobe' }, { session, log: new Logger((l) => logs.push(l)) })),
    ).rejects.toThrow(
      'kprobe is not available on this kernel: the kernel was built without CONFIG_KPROBES; use --backend=tracepoint',
    );
    expect(calls).toEqual(['close']);
  });

  it('tells the caller when everything is attached, with the tracer for loss counts', async () => {
    const { session } = fakeSession(kfreeEvents(1));
    let attached = -1;
    let lost = -1;
    await collect(
      trace({ outputLimitLines: 1 }, { session, onAttached: (t) => ((attached = t.attached), (lost = t.lost())) }),
    );
    expect(attached).toBeGreaterThan(0);
    expect(lost).toBe(3); // the fake's per-CPU counter
  });
});
