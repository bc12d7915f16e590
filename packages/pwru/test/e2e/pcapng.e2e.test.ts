import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PcapngEventWriter } from '../../src/output/pcapng/events.js';
import { haveTshark, tsharkFields } from '../../src/output/pcapng/tshark.js';
import { trace } from '../../src/trace.js';
import { e2eSkipReason, NetnsPair, PwruProcess } from './netns.js';

// --output-pcapng on this machine's kernel (tracepoint backend) with real TCP, UDP and ICMP
// traffic between two test namespaces, read back by tshark: one packet per event, the bytes the
// kernel held decoding to the tuple pwru printed for that event.
const skip = e2eSkipReason() ?? (haveTshark() ? undefined : 'needs tshark (tools/deps/apt-packages)');
if (skip) console.log(`skipped: pcapng end-to-end tests ${skip}`);

const FIELDS = [
  'frame.comment',
  'frame.interface_name',
  'frame.encap_type',
  'frame.len',
  'frame.cap_len',
  'ip.src',
  'ip.dst',
  'ip.proto',
  'tcp.srcport',
  'tcp.dstport',
  'udp.srcport',
  'udp.dstport',
  'icmp.type',
];

interface JsonEv {
  skb: string;
  cpu: number;
  func: string;
  iface: string;
  len: number;
  tuple: { saddr: string; daddr: string; sport: number; dport: number; proto: number };
}

describe.skipIf(skip !== undefined)('--output-pcapng (tracepoint backend, real traffic, tshark as the oracle)', () => {
  let net: NetnsPair;
  let dir: string;
  beforeAll(() => {
    net = new NetnsPair();
    net.exec(net.nsB, ['iptables', '-w', '10', '-I', 'INPUT', '1', '-p', 'tcp', '--dport', '8080', '-j', 'DROP']);
    dir = mkdtempSync(join(tmpdir(), 'pwru-pcapng-e2e-'));
  });
  afterAll(() => {
    net?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const traffic = (): void => {
    net.connect(net.b, 8080); // TCP SYN, dropped by iptables in b
    const udp = `const s=require('dgram').createSocket('udp4');s.send(Buffer.alloc(300,7),9999,${JSON.stringify(net.b)},()=>s.close());`;
    net.exec(net.nsA, [process.execPath, '-e', udp]); // UDP (and b's ICMP port unreachable)
    try {
      net.exec(net.nsA, ['busybox', 'ping', '-c1', '-W1', net.b]); // ICMP echo
    } catch {
      // Only the packets matter.
    }
  };
  const filter = (): string => `host ${net.b} and (tcp port 8080 or udp port 9999 or icmp)`;

  it('writes one packet per event whose bytes decode to the tuple pwru printed, with the event as the comment', async () => {
    const file = join(dir, 'trace.pcapng');
    const p = new PwruProcess([
      '--backend=tracepoint',
      '--output-json',
      '--output-pcapng',
      file,
      '--output-pcapng-snaplen',
      '128',
      filter(),
    ]);
    try {
      await p.ready();
      traffic();
      await p.waitFor(/"proto":1\b/, 8000);
      await new Promise((r) => setTimeout(r, 500));
      expect(await p.stop()).toBe(0);
    } finally {
      p.child.kill('SIGKILL');
    }
    const events = p.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as JsonEv);
    expect(events.length).toBeGreaterThan(5);
    const r = tsharkFields(file, FIELDS);
    expect(r.warnings).toBe('');
    expect(r.status).toBe(0);
    expect(r.rows).toHaveLength(events.length);
    const seen = new Set<number>();
    events.forEach((ev, i) => {
      const [comment, ifname, encap, len, capLen, src, dst, proto, tsport, tdport, usport, udport, icmpType] = r.rows[
        i
      ]!.map((x) => x.split(',')[0]!);
      const where = `event ${i}: ${JSON.stringify(ev)} / tshark: ${r.rows[i]!.join(' | ')}`;
      expect(comment!.startsWith(`${ev.func} skb=${ev.skb} cpu=${ev.cpu} `), where).toBe(true);
      expect(comment, where).toContain(` iface=${ev.iface} `);
      // The interface is the event's device (a socket's skb has none).
      expect(ev.iface === '0' ? ifname === 'no device' : ev.iface.startsWith(ifname! + ':'), where).toBe(true);
      // Ethernet when the skb had a MAC header, raw IP (WTAP_ENCAP_RAW_IP = 7) otherwise.
      expect(['1', '7'], where).toContain(encap);
      expect(Number(capLen), where).toBeLessThanOrEqual(128);
      expect(Number(len), where).toBeGreaterThanOrEqual(Number(capLen));
      expect([src, dst, Number(proto)], where).toEqual([ev.tuple.saddr, ev.tuple.daddr, ev.tuple.proto]);
      if (ev.tuple.proto === 6)
        expect([Number(tsport), Number(tdport)], where).toEqual([ev.tuple.sport, ev.tuple.dport]);
      if (ev.tuple.proto === 17)
        expect([Number(usport), Number(udport)], where).toEqual([ev.tuple.sport, ev.tuple.dport]);
      if (ev.tuple.proto === 1) expect(icmpType, where).toMatch(/^(0|3|8)$/);
      seen.add(ev.tuple.proto);
    });
    expect([...seen].sort((a, b) => a - b)).toEqual([1, 6, 17]);
    // The UDP datagram (328 bytes of IP) is cut at the snap length, its original length kept.
    const udpRows = r.rows.filter((row, i) => events[i]!.tuple.proto === 17 && row[4] === '128');
    expect(udpRows.length).toBeGreaterThan(0);
    for (const row of udpRows) expect(Number(row[3])).toBeGreaterThanOrEqual(328);
    expect(r.rows.some((row, i) => /NETFILTER_DROP/.test(row[0]!) && events[i]!.tuple.dport === 8080)).toBe(true);
  });

  it('--output-pcapng - streams pcapng on stdout, which tshark -r - reads while pwru runs', async () => {
    const ready = join(dir, 'ready-stdout');
    const bin = new URL('../../bin/pwru.js', import.meta.url).pathname;
    // `pwru ... | tshark -r -` through a named pipe, so the test knows pwru's pid (Node's own
    // pipes are sockets, which tshark refuses to read).
    const fifo = join(dir, 'pcapng.fifo');
    execFileSync('mkfifo', [fifo]);
    const tshark = spawn('sh', ['-c', 'exec tshark -l -r - -T fields -e frame.comment -e ip.dst < "$PWRU_FIFO"'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PWRU_FIFO: fifo },
    });
    const pwru = spawn(
      'sh',
      [
        '-c',
        'exec "$0" "$@" > "$PWRU_FIFO"',
        process.execPath,
        bin,
        '--ready-file',
        ready,
        '--backend=tracepoint',
        '--output-pcapng',
        '-',
        filter(),
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, PWRU_FIFO: fifo },
      },
    );
    let out = '';
    tshark.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    let pwruErr = '';
    pwru.stderr!.on('data', (d: Buffer) => (pwruErr += d.toString()));
    let err = '';
    tshark.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    try {
      const end = Date.now() + 60_000;
      while (!existsSync(ready) && Date.now() < end && pwru.exitCode === null)
        await new Promise((r) => setTimeout(r, 100));
      traffic();
      // Live: tshark shows the drop before pwru stops.
      const until = Date.now() + 8000;
      while (!/NETFILTER_DROP/.test(out) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      expect(out, `pwru: ${pwruErr}\ntshark: ${err}`).toMatch(
        /kfree_skb\(SKB_DROP_REASON_NETFILTER_DROP\) skb=0x[0-9a-f]{16} cpu=\d+ .*\t/,
      );
      pwru.kill('SIGTERM');
      await new Promise((r) => tshark.on('exit', r));
      expect(err.split('\n').filter((l) => l && !/^Running as user/.test(l))).toEqual([]);
      for (const line of out.trim().split('\n'))
        expect(line.split('\t')[1]!.split(',')[0]).toMatch(new RegExp(`^10\\.231\\.\\d+\\.[12]$`));
    } finally {
      pwru.kill('SIGKILL');
      tshark.kill('SIGKILL');
    }
  });

  it('trace() hands out the packet bytes, and PcapngEventWriter writes them as pcapng tshark reads', async () => {
    const file = join(dir, 'api.pcapng');
    const ac = new AbortController();
    let writer: PcapngEventWriter | undefined;
    const fd = openSync(file, 'w');
    const seen: Array<{ func: string; dport?: number }> = [];
    try {
      const events = trace(
        { backend: 'tracepoint', outputPcapng: '-', filterPcap: `dst host ${net.b} and tcp port 8080` },
        {
          signal: ac.signal,
          onAttached: (t) => {
            writer = new PcapngEventWriter(fd, t.context, { snaplen: 256, output: t.options });
            setTimeout(() => net.connect(net.b, 8080), 100);
            setTimeout(() => ac.abort(), 4000);
          },
        },
      );
      for await (const ev of events) {
        writer!.write(ev.raw, ev.packet);
        seen.push({ func: ev.func, ...(ev.tuple ? { dport: ev.tuple.dport } : {}) });
        if (/NETFILTER_DROP/.test(ev.func)) ac.abort();
      }
      writer!.flush();
    } finally {
      closeSync(fd);
    }
    expect(seen.some((e) => /NETFILTER_DROP/.test(e.func))).toBe(true);
    const r = tsharkFields(file, ['frame.comment', 'tcp.dstport', 'frame.cap_len']);
    expect(r.warnings).toBe('');
    expect(r.rows).toHaveLength(seen.length);
    r.rows.forEach((row, i) => {
      expect(row[0]!.startsWith(seen[i]!.func + ' ')).toBe(true);
      expect(Number(row[1])).toBe(8080);
      expect(Number(row[2])).toBeGreaterThan(0);
    });
  });
});
