import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, renderInChromium } from '../../src/sequence/chromium.js';
import { addDnat, routeVirtualAddress } from './dnat.js';
import { iptables } from './kernel.js';
import { e2eSkipReason, NetnsPair, PwruProcess } from './netns.js';

// --output-sequence on this machine's kernel (tracepoint backend), on paths whose every hop is
// known: a SYN crossing a veth pair into another namespace and dropped there by iptables, and the
// same after a DNAT rewrite followed with --filter-track-skb. The live view must equal the view
// of the same events saved with --output-json and read back with --input-json.
const skip = e2eSkipReason() ?? (haveChromium() ? undefined : 'needs chromium (tools/deps/apt-packages)');
if (skip) console.log(`skipped: sequence end-to-end tests ${skip}`);

interface Story {
  packet: number;
  skbs: string[];
  tuple: string;
  end: { kind: string; func?: string; reason?: string };
  hops: Array<{
    func: string;
    reason?: string;
    netns: number;
    iface: string;
    tuple: string;
    since_prev_ns?: number;
    since_first_ns: number;
    changed?: string[];
  }>;
}

const bin = new URL('../../bin/pwru.js', import.meta.url).pathname;
const esc = (s: string): string => s.replace(/[.]/g, '\\.');

describe.skipIf(skip !== undefined)('--output-sequence (tracepoint backend, known paths between namespaces)', () => {
  let net: NetnsPair;
  let dir: string;
  let virtual: string;
  beforeAll(() => {
    net = new NetnsPair();
    const ipt = iptables((argv) => net.exec(net.nsB, argv)).v4;
    net.exec(net.nsB, [ipt, '-w', '10', '-I', 'INPUT', '1', '-p', 'tcp', '--dport', '8080', '-j', 'DROP']);
    virtual = routeVirtualAddress(net, 232, 3);
    addDnat(net, { chain: 'PREROUTING', destination: virtual, port: 8080 });
    dir = mkdtempSync(join(tmpdir(), 'pwru-sequence-e2e-'));
  }, 60_000);
  afterAll(() => {
    net?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** One SYN to `host`, traced with `flags`; returns the events and the packets. */
  async function trace(host: string, flags: string[]): Promise<{ events: string[]; stories: Story[] }> {
    const p = new PwruProcess([
      '--backend=tracepoint',
      '--output-json',
      '--timestamp',
      'current',
      '--output-sequence',
      ...flags,
      `dst host ${host} and tcp port 8080`,
    ]);
    try {
      await p.ready();
      net.connect(host, 8080);
      await p.waitFor(/NETFILTER_DROP/, 8000);
      await new Promise((r) => setTimeout(r, 300));
      expect(await p.stop()).toBe(0);
    } finally {
      p.child.kill('SIGKILL');
    }
    const lines = p.stdout.split('\n').filter(Boolean);
    return {
      events: lines.filter((l) => !l.startsWith('{"packet"')),
      stories: lines.filter((l) => l.startsWith('{"packet"')).map((l) => JSON.parse(l) as Story),
    };
  }

  /** The view of saved events, through the command line. */
  function offline(events: string[], extra: string[]): string {
    const file = join(dir, `events-${Date.now()}.json`);
    writeFileSync(file, events.join('\n') + '\n');
    const r = spawnSync(process.execPath, [bin, '--input-json', file, '--output-sequence', ...extra], {
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return r.stdout;
  }

  it('a SYN crossing the veth pair and dropped by iptables: every hop in order, the netns change, the drop', async () => {
    const { events, stories } = await trace(net.b, []);
    const syn = stories.find((s) => s.end.kind === 'drop' && s.hops[0]!.func === 'net_dev_queue');
    expect(syn, JSON.stringify(stories, null, 1)).toBeDefined();
    const hops = syn!.hops;
    expect(hops.map((h) => h.func)).toEqual([
      'net_dev_queue',
      'net_dev_start_xmit',
      'netif_rx_entry',
      'netif_rx',
      'net_dev_xmit',
      'netif_receive_skb',
      'kfree_skb',
    ]);
    expect(syn!.end).toEqual({ kind: 'drop', func: 'kfree_skb', reason: 'SKB_DROP_REASON_NETFILTER_DROP' });
    expect(syn!.tuple).toMatch(new RegExp(`^${esc(net.a)}:\\d+->${esc(net.b)}:8080\\(tcp\\)$`));
    // Sender's namespace and veth end for two hops, then the peer's.
    expect(hops.map((h) => h.iface)).toEqual([`${net.vethA}:2`, `${net.vethA}:2`, ...Array(5).fill(`${net.vethB}:2`)]);
    expect(hops[2]!.changed).toEqual([
      `netns ${hops[0]!.netns}->${hops[2]!.netns}`,
      `iface ${net.vethA}:2->${net.vethB}:2`,
      'len 74->60',
    ]);
    expect(hops[0]!.netns).not.toBe(hops[2]!.netns);
    // Per-hop latency: consecutive times add up to the time since the first hop.
    let sum = 0;
    for (const h of hops.slice(1)) {
      expect(h.since_prev_ns).toBeGreaterThan(0);
      sum += h.since_prev_ns!;
      expect(h.since_first_ns).toBe(sum);
    }
    // The same events, saved and read back: the same packets.
    const back = offline(events, ['--output-json'])
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Story);
    expect(back).toEqual(stories);
    const text = offline(events, []);
    expect(text).toMatch(
      new RegExp(
        `PACKET ${syn!.packet}  ${esc(syn!.tuple).replace(/[()]/g, '\\$&')}  skb ${syn!.skbs[0]}  7 hops in \\S+  dropped at kfree_skb: SKB_DROP_REASON_NETFILTER_DROP\\n`,
      ),
    );
    expect(text).toContain(
      `~ netns ${hops[0]!.netns}->${hops[2]!.netns}, iface ${net.vethA}:2->${net.vethB}:2, len 74->60\n`,
    );
    // The picture of the same events, as Chromium renders it: the drop's steps in two lanes.
    const html = join(dir, 'paths.html');
    offlineHtml(events, html);
    const { dom } = renderInChromium(html);
    const lanes = [...dom.matchAll(/<tr class="lane" data-lane="([^"]+)">/g)].map((m) => m[1]);
    expect(lanes).toEqual([`netns ${hops[0]!.netns} / ${net.vethA}:2`, `netns ${hops[2]!.netns} / ${net.vethB}:2`]);
    const steps = [...dom.matchAll(/data-step="\d+"[^>]*><span class="func">\d+\. ([^<]+)<\/span>/g)].map((m) => m[1]);
    expect(steps).toEqual(hops.map((h) => h.func));
    expect(dom).toContain('<span class="reason">SKB_DROP_REASON_NETFILTER_DROP</span>');
  });

  function offlineHtml(events: string[], html: string): void {
    const file = join(dir, `events-html-${Date.now()}.json`);
    writeFileSync(file, events.join('\n') + '\n');
    const r = spawnSync(process.execPath, [bin, '--input-json', file, '--output-html', html], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  }

  it('a DNAT rewrite followed with --filter-track-skb shows on the same packet as a tuple change', async () => {
    const { events, stories } = await trace(virtual, ['--filter-track-skb']);
    const syn = stories.find((s) => s.end.kind === 'drop' && s.hops[0]!.func === 'net_dev_queue');
    expect(syn, JSON.stringify(stories, null, 1)).toBeDefined();
    const pre = new RegExp(`^${esc(net.a)}:(\\d+)->${esc(virtual)}:8080\\(tcp\\)$`);
    expect(syn!.tuple).toMatch(pre);
    const sport = pre.exec(syn!.tuple)![1]!;
    const post = `${net.a}:${sport}->${net.b}:8080(tcp)`;
    const at = syn!.hops.findIndex((h) => h.tuple === post);
    expect(at).toBeGreaterThan(0);
    expect(syn!.hops[at]!.changed).toContain(`tuple ${syn!.tuple} -> ${post}`);
    expect(syn!.hops.at(-1)).toMatchObject({
      func: 'kfree_skb',
      reason: 'SKB_DROP_REASON_NETFILTER_DROP',
      tuple: post,
    });
    expect(syn!.skbs).toHaveLength(1);
    expect(
      offline(events, ['--output-json'])
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
    ).toEqual(stories);
  });

  it('--input-json is not confused with a filter: filter words with it are refused in one line', () => {
    const file = join(dir, 'empty.json');
    writeFileSync(file, '');
    const r = spawnSync(process.execPath, [bin, '--input-json', file, '--output-sequence', 'tcp', 'port', '80'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(
      '--input-json reads saved events, so a pcap filter cannot apply to them (got \\"tcp port 80\\")',
    );
  });
});
