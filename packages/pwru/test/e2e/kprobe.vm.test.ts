import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendRuns, dropShape, iptables, titled, vmSkipReason } from './kernel.js';
import { NetnsPair, PwruProcess } from './netns.js';
import { scenarios } from './scenarios.js';

// Inside the test VM (tools/vm/test.sh), on every kernel of the matrix: upstream's scenarios with
// each kprobe-family backend the kernel has (kprobe-multi as pwru's own pick where it attaches,
// per-function kprobes where it does not), where a netfilter drop shows as the kernel's drop
// function (kfree_skb_reason, sk_skb_reason_drop, or plain kfree_skb before 5.17) after
// nf_hook_slow; and the same drop through every backend, fentry included. Emulated CPUs attach
// a few kprobes a second, so the function set is limited to the ones the scenarios look at.
const vm = vmSkipReason();
if (vm) console.log(`skipped: kprobe end-to-end tests: ${vm}`);
const drop = vm ? { func: 'kfree_skb_reason', reason: '(SKB_DROP_REASON_NETFILTER_DROP)', pattern: '' } : dropShape();
const dropFunc = drop.func === 'kfree_skb' ? '^kfree_skb$' : drop.func;
const FUNCS = [
  '--filter-func',
  `(nf_hook_slow|${dropFunc}|ip_rcv|ip_local_deliver|__netif_receive_skb|icmp_rcv|arp_rcv|ip6_rcv_core|ipv6_rcv)`,
];
const runs = backendRuns();

// Upstream's CI scenarios, pcap filters included: they must load on every kernel's verifier.
for (const run of runs.filter((r) => r.backend !== 'fentry')) {
  scenarios(run.backend, drop.func, 'nf_hook_slow', FUNCS, {
    args: run.args,
    label: run.label,
    skip: run.skip,
    reason: drop.reason,
    links: run.links,
  });
}

for (const run of runs) {
  describe.skipIf(run.skip !== undefined)(titled(`pwru end to end (${run.label}, no pcap filter)`, run.skip), () => {
    let net: NetnsPair;
    beforeAll(() => {
      net = new NetnsPair();
      const ipt = iptables((argv) => net.exec(net.nsB, argv));
      net.exec(net.nsB, [ipt.v4, '-w', '10', '-I', 'INPUT', '1', '-p', 'tcp', '--dport', '8080', '-j', 'DROP']);
    });
    afterAll(() => net?.destroy());

    it(`nf_hook_slow then ${drop.func}${drop.reason} for a drop in a namespace`, async () => {
      const p = new PwruProcess([
        ...run.args,
        ...FUNCS,
        '--filter-netns',
        `/run/netns/${net.nsB}`,
        '--filter-skb-expr',
        'skb->len > 0',
      ]);
      try {
        await p.ready(300_000);
        net.connect(net.b, 8080);
        const seen = await p.waitFor(new RegExp(`8080\\(tcp\\)\\s+${drop.pattern}$`, 'm'), 30_000);
        expect(await p.stop()).toBe(0);
        expect(seen, `${p.stdout}\n${p.stderr}`).toBe(true);
        const lines = p.stdout.split('\n');
        // The SYN's drop (before 5.17 plain kfree_skb also frees other packets of the namespace).
        const dropAt = lines.findIndex((l) => l.includes('8080(tcp)') && l.endsWith(` ${drop.func}${drop.reason}`));
        expect(lines.slice(0, dropAt).some((l) => l.endsWith(' nf_hook_slow'))).toBe(true);
        expect(p.stderr).toMatch(new RegExp(`INFO Attaching \\w+( programs)? via=${run.backend}\n`));
      } finally {
        p.child.kill('SIGKILL');
      }
    }, 400_000);
  });
}
