import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendRuns, dropShape, iptables, titled, vmSkipReason } from './kernel.js';
import { NetnsPair, PwruProcess } from './netns.js';

// --output-sequence with a kprobe backend (the host has none), inside the test VM: a SYN from
// namespace a, cloned on its way out by the AF_PACKET tap of a tcpdump on a's veth end
// (dev_queue_xmit_nit -> skb_clone), then dropped by iptables in b. The clone joins its original's
// packet because skb_clone is traced on the original just before the clone's first event. One
// backend, a handful of functions: a cheap check, hop by hop; the --output-html page of the same
// run must embed the same packets.
const vm = vmSkipReason();
if (vm) console.log(`skipped: sequence VM test: ${vm}`);
const drop = vm ? { func: 'kfree_skb_reason', reason: '', pattern: '' } : dropShape();
const run = backendRuns({ fentry: false }).find((r) => r.skip === undefined) ?? backendRuns({ fentry: false })[0]!;

interface Story {
  skbs: string[];
  tuple: string;
  end: { kind: string; func?: string; reason?: string };
  hops: Array<{ skb: string; func: string; iface: string; since_first_ns?: number }>;
}

describe.skipIf(run.skip !== undefined)(
  titled(`--output-sequence and --output-html with a clone (${run.label})`, run.skip),
  () => {
    let net: NetnsPair;
    let tap: ChildProcess | undefined;
    beforeAll(async () => {
      net = new NetnsPair();
      const ipt = iptables((argv) => net.exec(net.nsB, argv)).v4;
      net.exec(net.nsB, [ipt, '-w', '10', '-I', 'INPUT', '1', '-p', 'tcp', '--dport', '8080', '-j', 'DROP']);
      // An AF_PACKET tap on a's veth end: every packet a sends is cloned for it.
      tap = spawn('ip', ['netns', 'exec', net.nsA, 'tcpdump', '-i', net.vethA, '-n', '-w', '/dev/null', 'tcp'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      await new Promise<void>((resolve, reject) => {
        let err = '';
        tap!.stderr!.on('data', (d: Buffer) => {
          err += d.toString();
          if (err.includes('listening on')) resolve();
        });
        tap!.once('exit', (code) => reject(new Error(`tcpdump exited ${code}: ${err}`)));
      });
    }, 60_000);
    afterAll(() => {
      tap?.kill('SIGTERM');
      net?.destroy();
    });

    it("joins the tap's clone to the SYN it was cloned from, and follows the SYN to its drop", async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pwru-sequence-vm-'));
      const page = join(dir, 'paths.html');
      const funcs = `^(__dev_queue_xmit|skb_clone|tpacket_rcv|packet_rcv|ip_rcv|${drop.func})$`;
      const p = new PwruProcess([
        ...run.args,
        '--filter-func',
        funcs,
        '--output-json',
        '--timestamp',
        'current',
        '--output-sequence',
        '--output-html',
        page,
        `dst host ${net.b} and tcp dst port 8080`,
      ]);
      try {
        await p.ready(300_000);
        net.connect(net.b, 8080);
        expect(await p.waitFor(new RegExp(`"func":"${drop.pattern}"`), 30_000), p.stderr + p.stdout).toBe(true);
        expect(await p.stop()).toBe(0);
      } finally {
        p.child.kill('SIGKILL');
      }
      // The page (rendered by Chromium in the host's sequence e2e test) embeds the same packets.
      const html = readFileSync(page, 'utf8');
      rmSync(dir, { recursive: true, force: true });
      const embedded = /<script type="application\/json" id="pwru-data">(.*?)<\/script>/s.exec(html);
      expect(embedded, html.slice(0, 400)).not.toBeNull();
      const onPage = (JSON.parse(embedded![1]!) as Array<Story & { endText: string }>).map(({ endText, ...s }) => s);
      const stories = p.stdout
        .split('\n')
        .filter((l) => l.startsWith('{"packet"'))
        .map((l) => JSON.parse(l) as Story);
      expect(onPage).toEqual(stories);
      const syn = stories.find((s) => s.end.kind === 'drop' && s.hops.some((h) => h.func === 'skb_clone'));
      expect(syn, JSON.stringify(stories, null, 1)).toBeDefined();
      // Hop by hop: the SYN leaves a and is cloned, the clone (the packet's next skb) reaches the
      // tap; the SYN crosses into b, where iptables drops it. (TCP's own transmit clone may come
      // first, as another skb of the same packet.)
      const hops = syn!.hops;
      const at = hops.findIndex(
        (h, i) =>
          h.func === 'skb_clone' && /^t?packet_rcv$/.test(hops[i + 1]?.func ?? '') && hops[i + 1]!.skb !== h.skb,
      );
      const show = hops.map((h) => `${h.func}@${h.skb}`).join(' ');
      expect(at, show).toBeGreaterThan(0);
      const sent = hops[at]!.skb;
      const clone = hops[at + 1]!.skb; // freed by the tap once read (SKB_CONSUMED)
      expect(syn!.skbs, show).toEqual(expect.arrayContaining([sent, clone]));
      // The sent skb's own path, from its transmit (TCP's transmit clone may show before it).
      const path = hops.filter((h) => h.skb === sent).map((h) => h.func);
      expect(path.slice(path.indexOf('__dev_queue_xmit')), show).toEqual([
        '__dev_queue_xmit',
        'skb_clone',
        'ip_rcv',
        drop.func,
      ]);
      expect(hops[at + 1]!.iface, show).toMatch(new RegExp(`^${net.vethA}:`));
      expect(hops.find((h) => h.func === 'ip_rcv')!.iface, show).toMatch(new RegExp(`^${net.vethB}:`));
      expect(syn!.end).toMatchObject({
        kind: 'drop',
        func: drop.func,
        ...(drop.reason ? { reason: 'SKB_DROP_REASON_NETFILTER_DROP' } : {}),
      });
      // Per-hop latency from the first hop, growing.
      const since = syn!.hops.map((h) => h.since_first_ns!);
      expect(since[0]).toBe(0);
      for (let i = 1; i < since.length; i++) expect(since[i]!).toBeGreaterThanOrEqual(since[i - 1]!);
    }, 400_000);
  },
);
