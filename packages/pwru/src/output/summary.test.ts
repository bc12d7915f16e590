import { describe, expect, it } from 'vitest';
import { EventKind, type PwruEvent } from '../event.js';
import { CURL_DROP, fakeContext } from './fixtures.js';
import { formatSummaryJson, formatSummaryText, TraceSummary } from './summary.js';

const IP_RCV = { hi: 0xffffffff, lo: 0x81000200 };
const GRO = { hi: 0xffffffff, lo: 0x81000100 };
const DROP = { hi: 0xffffffff, lo: 0x81000000 };

/** A flow's events: ip_rcv, tcp4_gro_receive, then kfree_skb_reason with `reason`. */
function flow(sport: number, reason: number): PwruEvent[] {
  const tuple = { ...CURL_DROP.tuple!, sport };
  return [
    { ...CURL_DROP, addr: IP_RCV, tuple },
    { ...CURL_DROP, addr: GRO, tuple },
    { ...CURL_DROP, addr: DROP, p2: reason, tuple },
  ];
}

describe('--output-summary', () => {
  it('counts functions by hits and drops by reason, drop functions counted once whatever the reason', () => {
    const s = new TraceSummary(fakeContext(), { byTuple: false });
    for (const ev of [...flow(1000, 12), ...flow(1001, 12), ...flow(1002, 2)]) s.add(ev);
    s.add({ ...CURL_DROP, addr: IP_RCV });
    const r = s.result();
    expect(r.events).toBe(10);
    expect(r.drops).toBe(3);
    expect(r.functions).toEqual([
      { func: 'ip_rcv', hits: 4 },
      { func: 'kfree_skb_reason', hits: 3 },
      { func: 'tcp4_gro_receive', hits: 3 },
    ]);
    expect(r.dropReasons).toEqual([
      { reason: 'SKB_DROP_REASON_NETFILTER_DROP', count: 2 },
      { reason: 'SKB_DROP_REASON_NOT_SPECIFIED', count: 1 },
    ]);
    expect(r.tuples).toBeUndefined();
  });

  it('takes the reason from the kfree_skb tracepoint site, and names unknown values by number', () => {
    const ctx = fakeContext({}, [{ name: 'kfree_skb', reason: 'p2' }, { name: 'consume_skb' }]);
    const s = new TraceSummary(ctx, { byTuple: false });
    const tp = { ...CURL_DROP, kind: EventKind.Tracepoint, addr: { hi: 0, lo: 0 } };
    s.add({ ...tp, site: 0, p2: 12 });
    s.add({ ...tp, site: 0, p2: 999 });
    s.add({ ...tp, site: 1, p2: 12 }); // consume_skb carries no reason
    const r = s.result();
    expect(r.functions).toEqual([
      { func: 'kfree_skb', hits: 2 },
      { func: 'consume_skb', hits: 1 },
    ]);
    expect(r.dropReasons).toEqual([
      { reason: 'SKB_DROP_REASON_NETFILTER_DROP', count: 1 },
      { reason: 'unknown (999)', count: 1 },
    ]);
  });

  it('does not count SKB_CONSUMED (a normal free) as a drop', () => {
    const ctx = fakeContext({ dropReasons: new Map([[1, 'SKB_CONSUMED']]) });
    const s = new TraceSummary(ctx, { byTuple: true });
    s.add({ ...CURL_DROP, p2: 1 });
    const r = s.result();
    expect(r.drops).toBe(0);
    expect(r.dropReasons).toEqual([]);
    expect(r.tuples![0]!.drops).toBe(0);
  });

  it('per tuple: events, drops, the last function seen and the reasons, dropped flows first', () => {
    const s = new TraceSummary(fakeContext(), { byTuple: true });
    const ok = flow(2000, 0).slice(0, 2);
    for (const ev of [...ok, ...flow(1000, 12), ...flow(1000, 12)]) s.add(ev);
    const r = s.result();
    expect(r.tuples!.map((t) => [t.tuple.sport, t.events, t.drops, t.lastFunc, Object.fromEntries(t.reasons)])).toEqual(
      [
        [1000, 6, 2, 'kfree_skb_reason', { SKB_DROP_REASON_NETFILTER_DROP: 2 }],
        [2000, 2, 0, 'tcp4_gro_receive', {}],
      ],
    );
  });

  it('keeps a bounded number of tuples and counts the rest together', () => {
    const s = new TraceSummary(fakeContext(), { byTuple: true, maxTuples: 2 });
    for (let port = 1; port <= 4; port++)
      s.add({ ...CURL_DROP, addr: IP_RCV, tuple: { ...CURL_DROP.tuple!, sport: port } });
    const r = s.result();
    expect(r.tuples).toHaveLength(2);
    expect(r.otherTupleEvents).toBe(2);
    expect(r.events).toBe(4);
  });

  it('renders aligned text tables', () => {
    const s = new TraceSummary(fakeContext(), { byTuple: true });
    for (const ev of flow(49460, 12)) s.add(ev);
    expect(formatSummaryText(s.result(7))).toBe(
      [
        '',
        'SUMMARY: 3 events, 1 drops, 7 events lost (ring buffer full)',
        '',
        'FUNCTION          HITS',
        'ip_rcv               1',
        'kfree_skb_reason     1',
        'tcp4_gro_receive     1',
        '',
        'DROP REASON                     COUNT',
        'SKB_DROP_REASON_NETFILTER_DROP      1',
        '',
        'TUPLE                                EVENTS  DROPS  LAST FUNC         DROP REASONS',
        '10.0.0.232:49460->1.0.0.1:8080(tcp)       3      1  kfree_skb_reason  SKB_DROP_REASON_NETFILTER_DROP=1',
        '',
      ].join('\n'),
    );
  });

  it('says so when nothing was dropped', () => {
    const s = new TraceSummary(fakeContext(), { byTuple: false });
    s.add({ ...CURL_DROP, addr: IP_RCV });
    expect(formatSummaryText(s.result())).toContain('\nNo drops seen.\n');
  });

  it('renders one JSON line with the event tuple shape', () => {
    const s = new TraceSummary(fakeContext(), { byTuple: true });
    for (const ev of flow(49460, 12)) s.add(ev);
    const line = formatSummaryJson(s.result(0));
    expect(line.endsWith('}\n')).toBe(true);
    expect(line.trimEnd().includes('\n')).toBe(false);
    expect(JSON.parse(line)).toEqual({
      summary: {
        events: 3,
        drops: 1,
        lost: 0,
        functions: [
          { func: 'ip_rcv', hits: 1 },
          { func: 'kfree_skb_reason', hits: 1 },
          { func: 'tcp4_gro_receive', hits: 1 },
        ],
        drop_reasons: [{ reason: 'SKB_DROP_REASON_NETFILTER_DROP', count: 1 }],
        tuples: [
          {
            tuple: { saddr: '10.0.0.232', daddr: '1.0.0.1', sport: 49460, dport: 8080, proto: 6 },
            events: 3,
            drops: 1,
            last_func: 'kfree_skb_reason',
            drop_reasons: [{ reason: 'SKB_DROP_REASON_NETFILTER_DROP', count: 1 }],
          },
        ],
      },
    });
  });
});
