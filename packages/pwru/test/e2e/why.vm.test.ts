import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendRuns, iptables, titled, vmSkipReason } from './kernel.js';
import { NetnsPair, PwruProcess } from './netns.js';

// Inside the test VM (tools/vm/test.sh), with every backend the kernel has (kprobe, kprobe-multi,
// fentry): the boolean --filter-skb-expr, cast included, and --output-ct on a DNAT. The filter
// keeps only packets on B's veth whose conntrack entry was DNAT'ed, so ip_rcv (before
// PREROUTING, no entry yet) must never show, and the entry must carry both tuples. Three
// functions only: emulated CPUs attach slowly.
const vm = vmSkipReason();
if (!vm) {
  try {
    execFileSync('modprobe', ['-a', 'nf_nat', 'nft_chain_nat', 'xt_nat', 'iptable_nat'], { stdio: 'ignore' });
  } catch {
    // iptables asks the kernel to load what it needs anyway.
  }
} else console.log(`skipped: filter expressions and --output-ct with kprobes and fentry: ${vm}`);

interface Event {
  func: string;
  iface: string;
  ct?: { state: string; status: string[]; orig?: { daddr: string; dport: number }; reply?: { saddr: string; sport: number } };
}

for (const run of backendRuns()) {
  describe.skipIf((vm ?? run.skip) !== undefined)(titled(`--filter-skb-expr and --output-ct, ${run.label}`, vm ?? run.skip), () => {
    let net: NetnsPair;
    beforeAll(() => {
      net = new NetnsPair();
      const ipt = iptables((argv) => net.exec(net.nsB, argv)).v4;
      net.exec(net.nsB, [ipt, '-w', '10', '-t', 'nat', '-A', 'PREROUTING', '-p', 'tcp', '--dport', '8080', '-j', 'DNAT', '--to-destination', `${net.b}:9090`]);
    });
    afterAll(() => net?.destroy());

    it('shows only DNATed packets on one device, with both tuples', async () => {
      const expr = `skb->dev->name == "${net.vethB}" && skb->_nfct && ((struct nf_conn *)(skb->_nfct & ~7))->status & IPS_DST_NAT`;
      const p = new PwruProcess([...run.args, '--filter-func', '^(ip_rcv|ip_local_deliver|tcp_v4_rcv)$', '--output-json', '--output-ct', '--filter-skb-expr', expr]);
      try {
        await p.ready(300_000);
        net.connect(net.b, 8080);
        expect(await p.waitFor(/"func":"tcp_v4_rcv"/, 20_000), p.stderr).toBe(true);
        expect(await p.stop()).toBe(0);
      } finally {
        p.child.kill('SIGKILL');
      }
      const events = p.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Event);
      expect(events.map((e) => e.func)).toContain('ip_local_deliver');
      for (const e of events) {
        expect(e.func).not.toBe('ip_rcv');
        expect(e.iface).toMatch(new RegExp(`^${net.vethB}:`));
        expect(e.ct?.status).toContain('DST_NAT');
        expect(e.ct).toMatchObject({ orig: { daddr: net.b, dport: 8080 }, reply: { saddr: net.b, sport: 9090 } });
      }
    }, 400_000);
  });
}
