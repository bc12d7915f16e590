import { describe, expect, it } from 'vitest';
import { CURL_DROP, DEFAULT_OUTPUT, fakeContext } from './fixtures.js';
import { JsonPrinter } from './json.js';
import { processName } from '../process.js';

describe('JsonPrinter', () => {
  it('writes exactly what JSON.stringify of the record gives, for every option', () => {
    const all = {
      ...DEFAULT_OUTPUT,
      outputTcpFlags: true,
      outputSkbCb: true,
      outputCaller: true,
      outputStack: true,
      outputTunnel: true,
      timestamp: 'absolute',
    };
    const ctx = fakeContext({ processName: (pid) => `we"ird\\ name\u00e9:${pid}`, netnsName: () => 'ns1' });
    for (const opts of [
      DEFAULT_OUTPUT,
      all,
      { ...all, outputNetnsNames: true },
      { ...all, outputMeta: false, timestamp: 'current', outputNetnsNames: true },
    ]) {
      const p = new JsonPrinter(opts, ctx);
      const ev = { ...CURL_DROP, tunnel: CURL_DROP.tuple };
      expect(p.format(ev)).toBe(JSON.stringify(new JsonPrinter(opts, ctx).toJson(ev)) + '\n');
    }
  });

  it('writes one object per line with upstream key names and order, and no header', () => {
    const p = new JsonPrinter(DEFAULT_OUTPUT, fakeContext());
    expect(p.header()).toBe('');
    expect(p.format(CURL_DROP)).toBe(
      '{"skb":"0xffff8bb7038b6900","cpu":3,"process":"/usr/bin/curl:3378123","func":"kfree_skb_reason(SKB_DROP_REASON_NETFILTER_DROP)",' +
        '"netns":4026531840,"mark":0,"iface":"eth0:2","proto":2048,"mtu":1500,"len":60,' +
        '"tuple":{"saddr":"10.0.0.232","daddr":"1.0.0.1","sport":49460,"dport":8080,"proto":6}}\n',
    );
  });

  it('adds the wire ids to the tuple object after its flags, the same in both builders', () => {
    const opts = { ...DEFAULT_OUTPUT, outputTcpFlags: true };
    const wire = { ipId: 4660, ipLen: 60, seq: 1000, ack: 0, dataHash: '0badf00d' };
    const ev = { ...CURL_DROP, wire };
    const line = new JsonPrinter(opts, fakeContext()).format(ev);
    expect(line).toContain(
      '"tuple":{"saddr":"10.0.0.232","daddr":"1.0.0.1","sport":49460,"dport":8080,"proto":6,"flags":"SYN",' +
        '"ip_id":4660,"ip_len":60,"seq":1000,"ack":0,"data_hash":"0badf00d"}',
    );
    expect(line).toBe(JSON.stringify(new JsonPrinter(opts, fakeContext()).toJson(ev)) + '\n');
    const v6 = new JsonPrinter(opts, fakeContext()).toJson({ ...CURL_DROP, wire: { ipLen: 80 } });
    expect(v6.tuple).toMatchObject({ ip_len: 80 });
    expect(v6.tuple).not.toHaveProperty('seq');
  });

  it('keeps zero values of requested fields (upstream omits cpu 0 and mark 0)', () => {
    const d = new JsonPrinter(DEFAULT_OUTPUT, fakeContext()).toJson({ ...CURL_DROP, cpu: 0 });
    expect(d.cpu).toBe(0);
    expect(d.mark).toBe(0);
  });

  it('writes IPv6 addresses without brackets', () => {
    const v6 = { saddr: '::1', daddr: '::1', sport: 0, dport: 0, l3: 0x86dd, l4: 58, flags: 0 };
    const d = new JsonPrinter(DEFAULT_OUTPUT, fakeContext()).toJson({ ...CURL_DROP, tuple: v6 });
    expect(d.tuple).toEqual({ saddr: '::1', daddr: '::1', sport: 0, dport: 0, proto: 58 });
  });

  it('adds flags, cb, caller, stack and tunnel only when asked', () => {
    const p = new JsonPrinter(
      {
        ...DEFAULT_OUTPUT,
        outputTcpFlags: true,
        outputSkbCb: true,
        outputCaller: true,
        outputStack: true,
        outputTunnel: true,
      },
      fakeContext(),
    );
    const d = p.toJson({ ...CURL_DROP, tunnel: CURL_DROP.tuple });
    expect(d.tuple?.flags).toBe('SYN');
    expect(d.tunnel_tuple?.flags).toBe('SYN');
    expect(d.cb).toEqual([0, 0, 0x14, 6, 0x60001]);
    expect(d.caller_func).toBe('ip_rcv');
    expect(d.stack).toEqual(['ip_rcv', 'kfree_skb_reason']);
    const plain = new JsonPrinter(DEFAULT_OUTPUT, fakeContext()).toJson(CURL_DROP);
    expect(Object.keys(plain)).not.toContain('cb');
    expect(Object.keys(plain)).not.toContain('stack');
    expect(Object.keys(plain)).not.toContain('time');
  });

  it('gives relative time as the delta to the previous event of the same skb', () => {
    const p = new JsonPrinter({ ...DEFAULT_OUTPUT, timestamp: 'relative' }, fakeContext());
    expect(p.toJson({ ...CURL_DROP, ts: 100 }).time).toBe(0);
    expect(p.toJson({ ...CURL_DROP, ts: 250 }).time).toBe(150);
    expect(p.toJson({ ...CURL_DROP, ts: 300, skb: { hi: 1, lo: 2 } }).time).toBe(0);
  });

  it('gives current time as the raw ktime and absolute time as a wall-clock string', () => {
    expect(new JsonPrinter({ ...DEFAULT_OUTPUT, timestamp: 'current' }, fakeContext()).toJson(CURL_DROP).time).toBe(
      1_000_000_000,
    );
    expect(new JsonPrinter({ ...DEFAULT_OUTPUT, timestamp: 'absolute' }, fakeContext()).toJson(CURL_DROP).time).toMatch(
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$/,
    );
    const boot = new Date(2026, 0, 2, 3, 4, 4, 0).getTime();
    const p = new JsonPrinter(
      { ...DEFAULT_OUTPUT, timestamp: 'absolute' },
      fakeContext({ wallClockMs: (ns) => boot + ns / 1e6 }),
    );
    expect(p.toJson({ ...CURL_DROP, ts: 2_250_000_000 }).time).toBe('2026-01-02T03:04:06.250');
    expect(JSON.parse(p.format({ ...CURL_DROP, ts: 2_250_000_000 })).time).toBe('2026-01-02T03:04:06.250');
  });
});

describe('--output-skb and --output-skb-shared-info in JSON', () => {
  it("has skb_shared_info after skb (upstream's place) and the skb dump last as skb_dump, without upstream's leading newline", () => {
    const p = new JsonPrinter(DEFAULT_OUTPUT, fakeContext());
    const ev = {
      ...CURL_DROP,
      skbDump: '(struct sk_buff){\n .len = (unsigned int)60,\n}',
      shinfoDump: '(struct skb_shared_info){\n}',
    };
    const line = p.format(ev);
    expect(line).toBe(JSON.stringify(p.toJson(ev)) + '\n');
    const keys = Object.keys(JSON.parse(line));
    expect(keys.slice(0, 3)).toEqual(['skb', 'skb_shared_info', 'cpu']);
    expect(keys[keys.length - 1]).toBe('skb_dump');
    expect(JSON.parse(line).skb_dump).toBe(ev.skbDump);
  });
});

describe('JsonPrinter process of an exited process', () => {
  it('is the command name the event carried, in name:pid form, whichever way the line is built', () => {
    const gone = 2 ** 22 + 4243;
    const ctx = fakeContext({ processName: (pid, comm) => processName(pid, comm) });
    const ev = { ...CURL_DROP, pid: gone, comm: 'nc' };
    expect(new JsonPrinter(DEFAULT_OUTPUT, ctx).toJson(ev).process).toBe(`nc:${gone}`);
    expect(JSON.parse(new JsonPrinter(DEFAULT_OUTPUT, ctx).format(ev)).process).toBe(`nc:${gone}`);
  });
});

describe('JsonPrinter tracked_only', () => {
  it('is true, after func, for an event shown only because its skb address is tracked; absent otherwise', () => {
    const ev = { ...CURL_DROP, flags: 1 };
    const line = new JsonPrinter(DEFAULT_OUTPUT, fakeContext()).format(ev);
    expect(line).toContain('"func":"kfree_skb_reason(SKB_DROP_REASON_NETFILTER_DROP)","tracked_only":true,');
    expect(line).toBe(JSON.stringify(new JsonPrinter(DEFAULT_OUTPUT, fakeContext()).toJson(ev)) + '\n');
    expect(new JsonPrinter(DEFAULT_OUTPUT, fakeContext()).toJson(CURL_DROP)).not.toHaveProperty('tracked_only');
  });
});
