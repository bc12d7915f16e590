import { describe, expect, it } from 'vitest';
import { readStreams, splitFunc, StreamReader, TimelineError } from './stream.js';

describe('splitFunc', () => {
  it('separates a drop reason, by name or by number, from the function', () => {
    expect(splitFunc('kfree_skb_reason(SKB_DROP_REASON_NETFILTER_DROP)')).toEqual({
      base: 'kfree_skb_reason',
      reason: 'SKB_DROP_REASON_NETFILTER_DROP',
    });
    expect(splitFunc('kfree_skb (77)')).toEqual({ base: 'kfree_skb', reason: '77' });
    expect(splitFunc('ip_rcv')).toEqual({ base: 'ip_rcv' });
  });
});

describe('readStreams', () => {
  it("puts monotonic times on the wall clock through each stream's clock reference, from the earliest reference", () => {
    const a = [
      '{"pwru_clock":{"node":"a","realtime_ns":"1765000000000000000","monotonic_ns":1000}}',
      '{"skb":"0x1","cpu":0,"process":"x","func":"ip_rcv","time":1500}',
    ].join('\n');
    const b = [
      'pwru log noise',
      '{"pwru_clock":{"node":"b","realtime_ns":"1765000000000000100","monotonic_ns":90}}',
      '',
      '{"skb":"0x2","cpu":0,"process":"x","func":"ip_rcv","time":100}',
    ].join('\n');
    const [sa, sb] = readStreams([
      { node: 'a', text: a },
      { node: 'b', text: b },
    ]);
    expect(sa!.events[0]!.t).toBe(500);
    expect(sb!.events[0]!.t).toBe(110);
    expect(sb!.timeSource).toBe('monotonic+reference');
  });

  it('reads --timestamp absolute times (millisecond resolution)', () => {
    const [s] = readStreams([
      {
        node: 'a',
        text: '{"skb":"0x1","cpu":0,"process":"x","func":"f","time":"2026-12-07T10:00:00.000"}\n{"skb":"0x1","cpu":0,"process":"x","func":"g","time":"2026-12-07T10:00:00.250"}',
      },
    ]);
    expect(s!.events.map((e) => e.t)).toEqual([0, 250_000_000]);
    expect(s!.timeSource).toBe('absolute');
  });

  it('says how to fix a stream it cannot use', () => {
    const read = (line: string) => () => new StreamReader('a', { realtimeNs: undefined }, 'a.json').push(line);
    expect(read('{"skb":"0x1","cpu":0,"process":"x","func":"f"}')).toThrow(
      /a\.json:1: the event has no time: run pwru with --timestamp current/,
    );
    expect(read('{"skb":"0x1","cpu":0,"process":"x","func":"f","time":"12"}')).toThrow(TimelineError);
    expect(read('{"skb":')).toThrow('a.json:1: not a JSON line: run pwru with --output-json');
    expect(read('{"pwru_clock":{"realtime_ns":5}}')).toThrow(/pwru_clock line needs/);
  });
});
