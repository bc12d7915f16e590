import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { e2eSkipReason, NetnsPair, PwruProcess } from './netns.js';

// The boolean --filter-skb-expr on this machine's kernel (tracepoint backend), on real traffic
// and with no pcap filter: two connections leave namespace A over its veth, only one of them
// marked by an iptables mangle rule; the expression picks that device and that mark.
const skip = e2eSkipReason();
if (skip) console.log(`skipped: filter-expression end-to-end tests ${skip}`);

describe.skipIf(skip !== undefined)('--filter-skb-expr boolean expressions (tracepoint backend, real traffic)', () => {
  let net: NetnsPair;
  beforeAll(() => {
    net = new NetnsPair();
    net.exec(net.nsA, [
      'iptables',
      '-w',
      '10',
      '-t',
      'mangle',
      '-A',
      'OUTPUT',
      '-p',
      'tcp',
      '--dport',
      '8080',
      '-j',
      'MARK',
      '--set-mark',
      '0x5a01',
    ]);
  });
  afterAll(() => net?.destroy());

  it('selects only packets of one device and mark', async () => {
    const expr = `skb->dev->name == "${net.vethA}" && (skb->mark & 0xff == 0x1) && !(skb->len < 20 || skb->protocol != 0x0800)`;
    const p = new PwruProcess(['--backend=tracepoint', '--output-json', '--filter-skb-expr', expr]);
    try {
      await p.ready();
      net.connect(net.b, 8081); // unmarked
      net.connect(net.b, 8080); // marked
      expect(await p.waitFor(/"dport":8080/), p.stderr).toBe(true);
      await new Promise((r) => setTimeout(r, 300));
      expect(await p.stop()).toBe(0);
    } finally {
      p.child.kill('SIGKILL');
    }
    const events = p.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { iface: string; mark: number; tuple: { dport: number; daddr: string } });
    expect(events.length).toBeGreaterThan(0);
    for (const ev of events) {
      expect(ev.iface).toMatch(new RegExp(`^${net.vethA}:`));
      expect(ev.mark & 0xff).toBe(1);
      expect(ev.tuple).toMatchObject({ daddr: net.b, dport: 8080 });
    }
  });

  it('rejects a bad expression in one line, with the column and the closest member names', async () => {
    const p = new PwruProcess(['--backend=tracepoint', '--filter-skb-expr', 'skb->dev->nme == "lo" && skb->mark']);
    expect(await p.exited).toBe(1);
    const lines = p.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(/column 11: no member 'nme' in struct net_device; closest: .*name/);
    expect(p.stderr).not.toMatch(/\n\s+at /);
  });
});
