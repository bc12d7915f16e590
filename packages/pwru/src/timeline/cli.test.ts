import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { timelineMain, type TimelineIo } from './cli.js';

function io(stop?: Promise<void>): TimelineIo & { stdout: string; stderr: string } {
  const o = {
    stdout: '',
    stderr: '',
    out: (s: string) => void (o.stdout += s),
    err: (s: string) => void (o.stderr += s),
    stopped: () => stop ?? new Promise<void>(() => {}),
  };
  return o;
}

const dir = mkdtempSync(join(tmpdir(), 'pwru-timeline-'));
const ev = (skb: string, func: string, time: number, sport: number, dport: number, s = '10.0.0.1', d = '10.0.0.2') =>
  JSON.stringify({
    skb,
    cpu: 0,
    process: '[kernel]',
    func,
    time,
    iface: 'eth0:2',
    len: 60,
    tuple: { saddr: s, daddr: d, sport, dport, proto: 17 },
  }) + '\n';
const clock = (node: string, rt: string, mono: number) =>
  JSON.stringify({ pwru_clock: { node, realtime_ns: rt, monotonic_ns: mono } }) + '\n';

describe('pwru timeline', () => {
  it('joins two files into text, naming nodes from their clock references', async () => {
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    writeFileSync(
      a,
      clock('node-a', '1765000000000000000', 0) +
        ev('0x1', 'dev_hard_start_xmit', 1000, 1, 2) +
        ev('0x2', 'netif_receive_skb', 3000, 2, 1, '10.0.0.2', '10.0.0.1'),
    );
    writeFileSync(
      b,
      clock('node-b', '1765000000000000000', 0) +
        ev('0x9', 'netif_receive_skb', 1500, 1, 2) +
        ev('0x9', 'kfree_skb(SKB_DROP_REASON_NETFILTER_DROP)', 1600, 1, 2) +
        ev('0x8', 'dev_hard_start_xmit', 2500, 2, 1, '10.0.0.2', '10.0.0.1'),
    );
    const o = io();
    expect(await timelineMain([a, b], o)).toBe(0);
    expect(o.stdout).toContain(
      'packet 1 10.0.0.1:1->10.0.0.2:2(udp) nodes node-a -> node-b: dropped on node-b at kfree_skb(SKB_DROP_REASON_NETFILTER_DROP)',
    );
    expect(o.stdout).toContain('clock node-b: offset 0 ns ± 500 ns from node-a (2 crossings)');
    const j = io();
    expect(await timelineMain(['--output-json', `x=${a}`, `y=${b}`], j)).toBe(0);
    const lines = j.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ packet: 1, nodes: ['x', 'y'], fate: { kind: 'dropped', node: 'y' } });
    expect(lines.at(-1)).toMatchObject({
      clocks: [{ node: 'x' }, { node: 'y', offset_ns: 0, precision_ns: 500, crossings: 2 }],
    });
  });

  it('follows growing files and prints each packet once it settles', async () => {
    const a = join(dir, 'fa.json');
    const b = join(dir, 'fb.json');
    writeFileSync(a, ev('0x1', 'dev_hard_start_xmit', 1000, 7, 8));
    writeFileSync(b, '');
    let stop!: () => void;
    const o = io(new Promise((r) => (stop = r)));
    const done = timelineMain(['--follow', '--settle', '300', a, b], o);
    await new Promise((r) => setTimeout(r, 250));
    appendFileSync(b, ev('0x5', 'netif_receive_skb', 1200, 7, 8));
    await new Promise((r) => setTimeout(r, 900));
    expect(o.stdout).toContain('nodes fa -> fb');
    stop();
    expect(await done).toBe(0);
    expect(o.stdout.match(/^packet /gm)).toHaveLength(1);
  });

  it('writes all of a large output to a pipe before exiting', () => {
    const f = join(dir, 'big.json');
    let text = '';
    for (let i = 0; i < 4000; i++)
      text += ev(`0x${i.toString(16)}`, 'dev_hard_start_xmit', i * 1000, 1000 + (i % 50000), 80);
    writeFileSync(f, text);
    const bin = new URL('../../bin/pwru.js', import.meta.url).pathname;
    const r = spawnSync('node', [bin, 'timeline', '--output-json', f], { encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(r.status).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(1 << 20);
    expect(r.stdout.trim().split('\n')).toHaveLength(4001);
  });

  it('rejects bad command lines and unreadable streams in one line', async () => {
    const cases: [string[], number, RegExp][] = [
      [[], 2, /no streams/],
      [['--bogus'], 2, /unknown option --bogus/],
      [['--settle', 'x', 'a'], 2, /--settle takes milliseconds, not 'x'/],
      [[join(dir, 'missing.json')], 1, /cannot read .*missing\.json: ENOENT/],
      [[`a=${join(dir, 'a.json')}`, `a=${join(dir, 'b.json')}`], 1, /two streams are labelled a/],
    ];
    for (const [argv, code, msg] of cases) {
      const o = io();
      expect(await timelineMain(argv, o)).toBe(code);
      expect(o.stderr).toMatch(msg);
      expect(o.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('prints a clock reference that maps the monotonic clock to the wall clock', async () => {
    const o = io();
    expect(await timelineMain(['clock', '--node', 'n1'], o)).toBe(0);
    const { pwru_clock: c } = JSON.parse(o.stdout) as {
      pwru_clock: { node: string; realtime_ns: string; monotonic_ns: number };
    };
    expect(c.node).toBe('n1');
    const wallNow = BigInt(Date.now()) * 1_000_000n;
    const monoNow = process.hrtime.bigint();
    // wall - mono is (to within scheduling noise) the same now as at the sample.
    const drift = Number(wallNow - monoNow - (BigInt(c.realtime_ns) - BigInt(c.monotonic_ns)));
    expect(Math.abs(drift)).toBeLessThan(5_000_000);
  });
});
