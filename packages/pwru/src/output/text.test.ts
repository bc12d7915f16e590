import { describe, expect, it } from 'vitest';
import { CURL_DROP, DEFAULT_OUTPUT, fakeContext } from './fixtures.js';
import { TextPrinter } from './text.js';
import { center, tailTruncate } from './columns.js';
import { processName } from '../process.js';

describe('TextPrinter header', () => {
  it('is upstream default header with meta and tuple on', () => {
    expect(new TextPrinter(DEFAULT_OUTPUT, fakeContext()).header()).toBe(
      'SKB                CPU PROCESS          NETNS      MARK/x        IFACE       PROTO  MTU   LEN   TUPLE FUNC\n',
    );
  });

  it('drops the meta columns with --output-meta=false', () => {
    expect(new TextPrinter({ ...DEFAULT_OUTPUT, outputMeta: false }, fakeContext()).header()).toBe(
      'SKB                CPU PROCESS          TUPLE FUNC\n',
    );
  });

  it('adds TIME, TIMESTAMP, cb, CALLER and TUNNEL columns in upstream order', () => {
    const p = new TextPrinter(
      { ...DEFAULT_OUTPUT, timestamp: 'absolute', outputSkbCb: true, outputCaller: true, outputTunnel: true },
      fakeContext(),
    );
    expect(p.header()).toBe(
      'TIME                    SKB                CPU PROCESS          TIMESTAMP        NETNS      MARK/x        IFACE       PROTO  MTU   LEN   ' +
        '__sk_buff->cb[]                                          TUPLE FUNC CALLER TUNNEL\n',
    );
  });
});

describe('TextPrinter event lines', () => {
  it('reproduces upstream example line for a netfilter drop', () => {
    const p = new TextPrinter(DEFAULT_OUTPUT, fakeContext());
    expect(p.format(CURL_DROP)).toBe(
      '0xffff8bb7038b6900 3   ~in/curl:3378123 4026531840 0             eth0:2      0x0800 1500  60    10.0.0.232:49460->1.0.0.1:8080(tcp) kfree_skb_reason(SKB_DROP_REASON_NETFILTER_DROP)\n',
    );
  });

  it('reproduces upstream example line with cb and TCP flags (commit 619e931)', () => {
    const p = new TextPrinter({ ...DEFAULT_OUTPUT, outputSkbCb: true, outputTcpFlags: true }, fakeContext());
    const ev = {
      ...CURL_DROP,
      skb: { hi: 0xffff91e7, lo: 0xcf0a3e00 },
      addr: { hi: 0xffffffff, lo: 0x81000100 },
      pid: 0,
      cpu: 6,
      meta: { netns: 4026531841, mark: 0, ifindex: 2, len: 46, mtu: 1500, proto: 0x0800 },
      tuple: {
        saddr: '192.168.241.1',
        daddr: '192.168.241.133',
        sport: 8080,
        dport: 32956,
        l3: 0x0800,
        l4: 6,
        flags: 0x14,
      },
    };
    expect(p.format(ev)).toBe(
      '0xffff91e7cf0a3e00 6   <empty>:0        4026531841 0            ens33:2      0x0800 1500  46    [0x00000000,0x00000000,0x00000014,0x00000006,0x00060001] 192.168.241.1:8080->192.168.241.133:32956(tcp:RST|ACK) tcp4_gro_receive\n',
    );
  });

  it('prints the drop reason number with a space when BTF has no name for it', () => {
    const p = new TextPrinter({ ...DEFAULT_OUTPUT, outputMeta: false, outputTuple: false }, fakeContext());
    expect(p.format({ ...CURL_DROP, p2: 999 })).toBe(
      '0xffff8bb7038b6900 3   ~in/curl:3378123 kfree_skb_reason (999)\n',
    );
  });

  it('names tracepoint sites and takes their reason from the tracepoint argument', () => {
    const ctx = fakeContext({}, [{ name: 'kfree_skb', reason: 'p2' }, { name: 'net_dev_queue' }]);
    const p = new TextPrinter({ ...DEFAULT_OUTPUT, outputMeta: false, outputTuple: false }, ctx);
    expect(p.format({ ...CURL_DROP, site: 0, addr: { hi: 0, lo: 0 } })).toContain(
      ' kfree_skb(SKB_DROP_REASON_NETFILTER_DROP)\n',
    );
    expect(p.format({ ...CURL_DROP, site: 1, addr: { hi: 0, lo: 0 } })).toMatch(/ net_dev_queue\n$/);
  });

  it('shows an unknown function address as hex and an unknown interface as its index', () => {
    const p = new TextPrinter(DEFAULT_OUTPUT, fakeContext());
    const line = p.format({
      ...CURL_DROP,
      addr: { hi: 0xffffffff, lo: 0x8c73d1b4 },
      meta: { ...CURL_DROP.meta!, ifindex: 9 },
    });
    expect(line).toContain(' 0' + ' '.repeat(15) + '9' + ' '.repeat(9) + '0x0800 ');
    expect(line.trimEnd().endsWith(' 0xffffffff8c73d1b4')).toBe(true);
  });

  it('pads TUPLE to the longest tuple seen so far', () => {
    const p = new TextPrinter({ ...DEFAULT_OUTPUT, outputMeta: false }, fakeContext());
    const long = p.format(CURL_DROP);
    const short = p.format({ ...CURL_DROP, tuple: { ...CURL_DROP.tuple!, saddr: '1.1.1.1' } });
    expect(short.indexOf('kfree_skb_reason')).toBe(long.indexOf('kfree_skb_reason'));
  });

  it('brackets IPv6 addresses and prints non-IP packets as :0->:0()', () => {
    const p = new TextPrinter({ ...DEFAULT_OUTPUT, outputMeta: false }, fakeContext());
    const v6 = { saddr: '2001:db8::1', daddr: '2001:db8::2', sport: 1, dport: 8080, l3: 0x86dd, l4: 6, flags: 0 };
    expect(p.format({ ...CURL_DROP, tuple: v6 })).toContain(' [2001:db8::1]:1->[2001:db8::2]:8080(tcp) ');
    const arp = { saddr: '', daddr: '', sport: 0, dport: 0, l3: 0, l4: 0, flags: 0 };
    expect(p.format({ ...CURL_DROP, tuple: arp })).toContain(' :0->:0() ');
  });

  it('prints one stack symbol per line, the caller, the tunnel tuple and timestamps', () => {
    const p = new TextPrinter(
      {
        ...DEFAULT_OUTPUT,
        outputMeta: false,
        outputStack: true,
        outputCaller: true,
        outputTunnel: true,
        timestamp: 'relative',
      },
      fakeContext(),
    );
    const tunnel = { ...CURL_DROP.tuple!, saddr: '192.168.0.1', daddr: '192.168.0.2', l4: 17 };
    const first = p.format({ ...CURL_DROP, tunnel });
    expect(first).toBe(
      '0xffff8bb7038b6900 3   ~in/curl:3378123 0                10.0.0.232:49460->1.0.0.1:8080(tcp) kfree_skb_reason(SKB_DROP_REASON_NETFILTER_DROP) ip_rcv\n' +
        'ip_rcv\nkfree_skb_reason 192.168.0.1:49460->192.168.0.2:8080(udp)\n',
    );
    const second = p.format({ ...CURL_DROP, ts: CURL_DROP.ts + 150, tunnel });
    expect(second.split(' ').filter(Boolean)[3]).toBe('150');
  });

  it('prints the raw ktime in current mode and the event time as local wall clock in absolute mode', () => {
    const p = new TextPrinter(
      { ...DEFAULT_OUTPUT, outputMeta: false, outputTuple: false, timestamp: 'absolute' },
      fakeContext(),
    );
    const line = p.format(CURL_DROP);
    expect(line).toMatch(
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3} 0xffff8bb7038b6900 3   ~in\/curl:3378123 1000000000       kfree/,
    );
  });

  it("prints in absolute mode the event's own time converted to wall clock, not the time of printing", () => {
    // Boot was at 2026-01-02 03:04:04.000 local time: ktime 1 s is 03:04:05.000.
    const boot = new Date(2026, 0, 2, 3, 4, 4, 0).getTime();
    const p = new TextPrinter(
      { ...DEFAULT_OUTPUT, outputMeta: false, outputTuple: false, timestamp: 'absolute' },
      fakeContext({ wallClockMs: (ns) => boot + ns / 1e6 }),
    );
    const first = p.format(CURL_DROP);
    const later = p.format({ ...CURL_DROP, ts: CURL_DROP.ts + 1_500_000_000 });
    expect(first.startsWith('2026-01-02T03:04:05.000 ')).toBe(true);
    expect(later.startsWith('2026-01-02T03:04:06.500 ')).toBe(true);
    // The TIMESTAMP column beside it keeps the raw ktime.
    expect(later.split(/ +/)[4]).toBe('2500000000');
  });
});

describe('--output-skb-metadata in text', () => {
  it('appends field=value after FUNC, as upstream', () => {
    const ctx = fakeContext({
      metadata: [
        { field: 'hash', format: (v) => String(v.lo) },
        { field: 'ifindex', format: (v) => String(v.lo) },
      ],
    });
    const p = new TextPrinter({ ...DEFAULT_OUTPUT, outputMeta: false, outputTuple: false }, ctx);
    const line = p.format({
      ...CURL_DROP,
      metadata: [
        { hi: 0, lo: 77 },
        { hi: 0, lo: 2 },
      ],
    });
    expect(line).toBe(
      '0xffff8bb7038b6900 3   ~in/curl:3378123 kfree_skb_reason(SKB_DROP_REASON_NETFILTER_DROP) hash=77 ifindex=2\n',
    );
  });
});

describe('column helpers', () => {
  it('centers with the odd space on the right', () => {
    expect(center('IFACE', 16)).toBe('     IFACE      ');
    expect(center('eth0:2', 16)).toBe('     eth0:2     ');
  });
  it('tail-truncates to 16 with ~', () => {
    expect(tailTruncate('/usr/bin/curl:3378123', 16)).toBe('~in/curl:3378123');
    expect(tailTruncate('curl:227116', 16)).toBe('curl:227116');
  });
});

describe('--output-skb and --output-skb-shared-info in text', () => {
  it('puts each dump on the lines after the event, after the stack, as upstream', () => {
    const p = new TextPrinter(
      { ...DEFAULT_OUTPUT, outputMeta: false, outputTuple: false, outputStack: true },
      fakeContext(),
    );
    const out = p.format({
      ...CURL_DROP,
      skbDump: '(struct sk_buff){\n .len = (unsigned int)60,\n}',
      shinfoDump: '(struct skb_shared_info){\n}',
    });
    expect(out).toBe(
      [
        '0xffff8bb7038b6900 3   ~in/curl:3378123 kfree_skb_reason(SKB_DROP_REASON_NETFILTER_DROP)',
        'ip_rcv',
        'kfree_skb_reason',
        '(struct sk_buff){',
        ' .len = (unsigned int)60,',
        '}',
        '(struct skb_shared_info){',
        '}',
        '',
      ].join('\n'),
    );
  });
});

describe('PROCESS column from the command name the event carried', () => {
  const gone = 2 ** 22 + 4242; // no such pid: the process exited before its event was printed
  const ctx = fakeContext({ processName: (pid, comm) => processName(pid, comm) });

  it("names a process that has exited by its command name, in upstream's name:pid form", () => {
    const line = new TextPrinter(DEFAULT_OUTPUT, ctx).format({ ...CURL_DROP, pid: gone, comm: 'ping' });
    expect(line.split(/ +/)[2]).toBe(`ping:${gone}`);
  });

  it('tells the idle tasks of different CPUs apart (pid 0)', () => {
    const p = new TextPrinter(DEFAULT_OUTPUT, ctx);
    expect(p.format({ ...CURL_DROP, pid: 0, comm: 'swapper/0' }).split(/ +/)[2]).toBe('swapper/0:0');
    expect(p.format({ ...CURL_DROP, pid: 0, comm: 'swapper/1' }).split(/ +/)[2]).toBe('swapper/1:0');
  });

  it('truncates a long name from the left to 16 columns, as executable paths are', () => {
    const line = new TextPrinter(DEFAULT_OUTPUT, ctx).format({ ...CURL_DROP, pid: gone, comm: 'kworker/u8:3-ev' });
    expect(line.slice(23, 39)).toBe(`~${`kworker/u8:3-ev:${gone}`.slice(-15)}`);
  });
});

describe('events shown only because their skb address is tracked (unconfirmed tracking)', () => {
  it('are marked "(tracked only)" after FUNC', () => {
    const line = new TextPrinter(DEFAULT_OUTPUT, fakeContext()).format({ ...CURL_DROP, flags: 1 });
    expect(line.trimEnd().endsWith(' kfree_skb_reason(SKB_DROP_REASON_NETFILTER_DROP) (tracked only)')).toBe(true);
    expect(new TextPrinter(DEFAULT_OUTPUT, fakeContext()).format(CURL_DROP)).not.toContain('tracked only');
  });
});
