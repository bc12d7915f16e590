/**
 * One packet across two machines: two VMs of the kernel matrix (6.12), each with its own kernel
 * and clocks, joined by an Ethernet link over host loopback (tools/vm/pair.sh), each running pwru
 * (tools/vm/two-node/node.mjs). Node b's wall clock is set 2.5 s ahead; b drops UDP 9999 and
 * DNATs UDP 8080 to 7777; a sends b a TCP transfer. The joined timeline must show each packet leave a, reach b and its
 * fate there, and estimate b's clock offset within the bound it reports, against an independent
 * measure (Cristian's: UDP requests a timed against b's clock, in user space).
 *
 * BPF_TS_TWO_NODE_RESULTS=DIR reads a previous run's DIR/a and DIR/b instead of booting the VMs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { timeline } from 'pwru';

const repo = new URL('../../..', import.meta.url).pathname;
let dir = process.env.BPF_TS_TWO_NODE_RESULTS ?? '';
let tl: timeline.Timeline;
let text = '';
let truth: { offsetNs: number; uncertaintyNs: number };

interface Ref {
  realtimeNs: bigint;
  monotonicNs: number;
}
function clockOf(file: string): Ref {
  const line = readFileSync(file, 'utf8').split('\n')[0]!;
  const c = (JSON.parse(line) as { pwru_clock: { realtime_ns: string; monotonic_ns: number } }).pwru_clock;
  return { realtimeNs: BigInt(c.realtime_ns), monotonicNs: c.monotonic_ns };
}
const wall = (ref: Ref, mono: string): bigint => ref.realtimeNs + BigInt(mono) - BigInt(ref.monotonicNs);

beforeAll(() => {
  if (!dir) {
    dir = mkdtempSync(join(tmpdir(), 'pwru-two-node-'));
    const r = spawnSync(
      'bash',
      [join(repo, 'tools/vm/pair.sh'), '--timeout', '300', '--out', dir, '--', 'node', 'tools/vm/two-node/node.mjs'],
      { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'inherit', 'inherit'] },
    );
    if (r.status !== 0) throw new Error(`the two VMs failed (exit ${r.status}); their output is above`);
  }
  const files = { a: join(dir, 'a', 'a.json'), b: join(dir, 'b', 'b.json') };
  tl = timeline.joinStreams(
    timeline.readStreams(Object.entries(files).map(([node, f]) => ({ node, text: readFileSync(f, 'utf8'), where: f }))),
  );
  text = timeline.timelineText(tl);
  writeFileSync(join(dir, 'timeline.txt'), text);
  // Cristian: b's reply was stamped between a's send and a's receive of it; the fastest round trip bounds best.
  const { samples } = JSON.parse(readFileSync(join(dir, 'a', 'cristian.json'), 'utf8')) as {
    samples: { t1: string; t2: string; tb: string }[];
  };
  if (samples.length === 0) throw new Error('no clock sample from b: see node.mjs');
  const ra = clockOf(files.a);
  const rb = clockOf(files.b);
  const best = samples
    .map((s) => ({ t1: wall(ra, s.t1), t2: wall(ra, s.t2), tb: wall(rb, s.tb) }))
    .sort((x, y) => Number(x.t2 - x.t1 - (y.t2 - y.t1)))[0]!;
  truth = { offsetNs: Number(best.tb - (best.t1 + best.t2) / 2n), uncertaintyNs: Number(best.t2 - best.t1) / 2 };
  console.log(
    `two-node run in ${dir}:\n${text
      .split('\n')
      .filter((l) => /^(packet|clock)/.test(l))
      .slice(-8)
      .join(
        '\n',
      )}\nCristian: b - a = ${(truth.offsetNs / 1e6).toFixed(3)} ms ± ${(truth.uncertaintyNs / 1e6).toFixed(3)} ms`,
  );
});

const withTuple = (p: timeline.PacketTimeline, f: (t: timeline.WireTuple) => boolean): boolean =>
  p.events.some((e) => e.event.tuple !== undefined && f(e.event.tuple));

describe('pwru timeline across two VMs (6.12, socket network)', () => {
  it('joins each TCP segment a sent to the one b received by its wire ids, through GSO and GRO', () => {
    const isTransfer = (t: timeline.WireTuple): boolean => t.proto === 6 && t.dport === 6000;
    const hops = tl.packets.flatMap((p) => p.hops).filter((h) => isTransfer(h.send.tuple!));
    // Both ends of every hop are the same packet: same IP ID, length, seq and ack, and b got it after a sent it.
    for (const h of hops) {
      const s = h.send.tuple!;
      expect(h.recv.tuple, JSON.stringify(h.send.json)).toMatchObject({
        ip_id: s.ip_id,
        ip_len: s.ip_len,
        seq: s.seq,
        ack: s.ack,
      });
      expect(h.latencyNs).toBeGreaterThan(-(tl.clocks[1]!.precisionNs + tl.clocks[0]!.precisionNs));
    }
    // Every data segment pwru saw a transmit is joined. (Software GSO hands the driver each
    // 2-segment skb as a list: pwru sees the list's first segment leave, the second leaves
    // inside the same call, so b's receive of it stays unjoined rather than joined wrongly.)
    const aEvents = tl.packets.flatMap((p) => p.events.map((e) => e.event)).filter((e) => e.node === 'a');
    const sentSeqs = new Set(
      aEvents
        .filter((e) => e.base === 'dev_hard_start_xmit' && e.tuple && isTransfer(e.tuple) && e.tuple.ip_len! > 100)
        .map((e) => e.tuple!.seq),
    );
    const joinedSeqs = new Set(hops.map((h) => h.send.tuple!.seq));
    expect(sentSeqs.size).toBeGreaterThanOrEqual(9); // 28 KiB in segments of at most 1448 bytes, GSO pairs
    expect([...sentSeqs].filter((q) => !joinedSeqs.has(q))).toEqual([]);
    expect(new Set(hops.map((h) => h.send)).size).toBe(hops.length);
    // GRO on b merges the second segment into the first: the merged skb's later events show the
    // summed length, and it is joined by its first segment's ids, as it arrived.
    const merged = tl.packets.filter((p) =>
      p.hops.some(
        (h) =>
          isTransfer(h.recv.tuple!) &&
          p.events.some((e) => e.event.node === 'b' && (e.event.tuple?.ip_len ?? 0) > h.recv.tuple!.ip_len!),
      ),
    );
    // Segments with one tuple and the same flags, told apart by seq alone.
    const byFlags = new Map<string, Set<number>>();
    for (const h of hops) {
      const k = `${h.send.tuple!.flags}`;
      if (!byFlags.has(k)) byFlags.set(k, new Set());
      byFlags.get(k)!.add(h.send.tuple!.seq as number);
    }
    expect(Math.max(...[...byFlags.values()].map((x) => x.size))).toBeGreaterThanOrEqual(8);
    console.log(
      `TCP: ${hops.length} hops a->b joined by seq, ${sentSeqs.size} data seqs sent, ${merged.length} of them GRO-merged on b`,
    );
  });

  it("estimates b's clock offset within the bound it reports (checked against a user-space round-trip measure)", () => {
    const b = tl.clocks.find((c) => c.node === 'b')!;
    expect(b.consistent).toBe(true);
    expect(Number.isFinite(b.precisionNs)).toBe(true);
    // b's clock was set 2.5 s ahead (the VMs' clocks also start from the host's RTC, to the second).
    expect(Math.abs(truth.offsetNs - 2.5e9)).toBeLessThan(1.6e9);
    expect(Math.abs(b.offsetNs - truth.offsetNs)).toBeLessThanOrEqual(b.precisionNs + truth.uncertaintyNs);
  });

  it('shows the packet dropped by iptables on b: sent by a, received by b, dropped there', () => {
    const p = tl.packets.find((x) => withTuple(x, (t) => t.dport === 9999))!;
    expect(p).toBeDefined();
    expect(p.nodes).toEqual(['a', 'b']);
    expect(p.hops).toHaveLength(1);
    expect(p.hops[0]).toMatchObject({ from: 'a', to: 'b' });
    expect(p.hops[0]!.send.base).toMatch(/xmit/);
    expect(p.fate.kind).toBe('dropped');
    expect(p.fate.node).toBe('b');
    expect(p.fate.event.json.func).toMatch(/SKB_DROP_REASON_NETFILTER_DROP/);
    // Causal order: a's transmit, then b's receive, then b's drop.
    const at = (ev: timeline.NodeEvent): number => p.events.findIndex((e) => e.event === ev);
    expect(at(p.hops[0]!.send)).toBeLessThan(at(p.hops[0]!.recv));
    expect(at(p.hops[0]!.recv)).toBeLessThan(at(p.fate.event));
    // On the independent clock measure too, b received it after a sent it.
    const sendA = p.hops[0]!.send.t;
    const recvB = p.hops[0]!.recv.t - truth.offsetNs;
    expect(recvB - sendA).toBeGreaterThan(-truth.uncertaintyNs);
  });

  it('follows the packet through the DNAT on b and its answer back to a, un-NATed', () => {
    const p = tl.packets.find((x) => withTuple(x, (t) => t.saddr === '10.99.0.1' && t.dport === 8080))!;
    expect(p.nodes).toEqual(['a', 'b']);
    expect(p.rewrites).toEqual([
      expect.objectContaining({
        node: 'b',
        from: expect.objectContaining({ dport: 8080 }),
        to: expect.objectContaining({ dport: 7777 }),
      }),
    ]);
    expect(p.fate).toMatchObject({ kind: 'consumed', node: 'b' });
    const reply = tl.packets.find((x) => withTuple(x, (t) => t.daddr === '10.99.0.1' && t.sport === 7777))!;
    expect(reply.nodes).toEqual(['b', 'a']);
    expect(reply.rewrites[0]).toMatchObject({ node: 'b', to: { sport: 8080 } });
    expect(reply.fate).toMatchObject({ kind: 'consumed', node: 'a' });
  });

  it('gives the same join through the command line, in JSON', () => {
    const r = spawnSync(
      'node',
      [
        join(repo, 'packages/pwru/bin/pwru.js'),
        'timeline',
        '--output-json',
        join(dir, 'a', 'a.json'),
        join(dir, 'b', 'b.json'),
      ],
      { encoding: 'utf8', maxBuffer: 1 << 28 },
    );
    expect(r.status).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, any>);
    const drop = lines.find((l) => l.events?.some((e: any) => e.tuple?.dport === 9999))!;
    expect(drop).toMatchObject({
      nodes: ['a', 'b'],
      fate: { kind: 'dropped', node: 'b' },
      hops: [{ from: 'a', to: 'b' }],
    });
    const clocks = lines.at(-1)!.clocks as { node: string; offset_ns: number; precision_ns: number }[];
    expect(clocks[1]!.offset_ns).toBe(Math.round(tl.clocks[1]!.offsetNs));
  });
});
