import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDnat, routeVirtualAddress } from './dnat.js';
import { e2eSkipReason, NetnsPair, PwruProcess } from './netns.js';

// The host kernel (6.18: no kprobes, no fentry), where skb tracking sees frees only at
// tracepoints: TCP frees pure ACKs and read data with no tracepoint, and the next skb the slab
// puts at that address used to be printed as part of the tracked flow, unmarked (issue 19).
// Real TCP exchanges through a DNAT in the server's PREROUTING, filtered on the pre-NAT address:
// every event that does not match the filter must say it was shown only by tracking.
const skip = e2eSkipReason();
if (skip) console.log(`skipped: unconfirmed tracking end-to-end tests ${skip}`);

const esc = (s: string): string => s.replace(/[.[\]]/g, (c) => `\\${c}`);

describe.skipIf(skip !== undefined)('--filter-track-skb on a kernel that sees frees only at tracepoints', () => {
  let net: NetnsPair;
  let virtual: string;
  let server: ReturnType<typeof spawn>;
  beforeAll(async () => {
    net = new NetnsPair();
    virtual = routeVirtualAddress(net, 233, 100);
    addDnat(net, { chain: 'PREROUTING', destination: virtual, port: 80 });
    // A tiny HTTP-ish server in nsB: reads a request, answers, closes.
    const js = `require('net').createServer((s)=>{s.on('data',()=>{s.end('HTTP/1.0 200 OK\\r\\n\\r\\n'+'x'.repeat(3000));});s.on('error',()=>{});}).listen(80,${JSON.stringify(net.b)},()=>console.log('up'));`;
    server = spawn('ip', ['netns', 'exec', net.nsB, process.execPath, '-e', js], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => server.stdout!.once('data', () => resolve()));
  });
  afterAll(() => {
    server?.kill('SIGKILL');
    net?.destroy();
  });

  /** Five request/response exchanges from nsA to the virtual address. */
  function exchanges(): void {
    const js = `let n=0;const go=()=>{const s=require('net').connect({host:${JSON.stringify(virtual)},port:80},()=>s.write('GET / HTTP/1.0\\r\\n\\r\\n'));s.on('data',()=>{});s.on('error',()=>{});s.on('close',()=>{if(++n<5)go();});};go();setTimeout(()=>process.exit(0),5000);`;
    net.exec(net.nsA, [process.execPath, '-e', js]);
  }

  /** pwru (tracepoint backend, tracking, filter on the virtual address) traced over {@link exchanges}, stopped. */
  async function traceExchanges(extra: string[]): Promise<PwruProcess> {
    const p = new PwruProcess(['--backend=tracepoint', ...extra, '--filter-track-skb', `dst host ${virtual} and tcp`]);
    try {
      await p.ready();
      exchanges();
      await new Promise((r) => setTimeout(r, 1000));
      expect(await p.stop()).toBe(0);
    } finally {
      p.child.kill('SIGKILL');
    }
    return p;
  }

  it('marks every event that failed the filter "(tracked only)", the post-NAT path included, and leaves matching ones unmarked', async () => {
    const p = await traceExchanges([]);
    const lines = p.stdout.split('\n').filter((l) => l.startsWith('0x'));
    const matching = new RegExp(` \\S+:\\d+->${esc(virtual)}:80\\(tcp\\) `);
    const postNat = new RegExp(` ${esc(net.a)}:\\d+->${esc(net.b)}:80\\(tcp\\) `);
    expect(lines.filter((l) => matching.test(l)).length, p.stdout).toBeGreaterThan(0);
    // The DNATed packets still follow, marked: tracking works, and says how sure it is.
    expect(lines.filter((l) => postNat.test(l)).length, p.stdout).toBeGreaterThan(0);
    const unmarkedStrangers = lines.filter((l) => !matching.test(l) && !l.endsWith(' (tracked only)'));
    expect(unmarkedStrangers, p.stdout).toEqual([]);
    expect(
      lines.filter((l) => matching.test(l) && l.endsWith(' (tracked only)')),
      p.stdout,
    ).toEqual([]);
    expect(p.stderr).toMatch(
      /INFO Skb tracking on this kernel: freed skbs are forgotten at the kfree_skb, consume_skb, skb_copy_datagram_iovec and tcp_probe/,
    );
  }, 60_000);

  it('marks them in JSON with "tracked_only": true', async () => {
    const p = await traceExchanges(['--output-json']);
    const events = p.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { tuple: { daddr: string; proto: number }; tracked_only?: true });
    expect(events.length).toBeGreaterThan(0);
    for (const ev of events) {
      const matches = ev.tuple.daddr === virtual && ev.tuple.proto === 6;
      expect(ev.tracked_only === true, JSON.stringify(ev)).toBe(!matches);
    }
    expect(events.some((ev) => ev.tracked_only)).toBe(true);
  }, 60_000);
});
