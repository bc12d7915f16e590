import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { e2eSkipReason, NetnsPair, PwruProcess } from './netns.js';
import { scenarios } from './scenarios.js';

// Run inside the Debian 6.1 VM (tools/vm, BPF_TS_VM=6.1), whose kernel has kprobes: upstream's
// scenarios with the kprobe backend, where a netfilter drop shows as kfree_skb_reason(...) after
// nf_hook_slow, and the same drop through the fentry backend (this kernel allows trampolines). Emulated CPUs attach a few kprobes a second, so the function set is limited to the
// ones the scenarios look at.
const skip = process.env.BPF_TS_VM ? e2eSkipReason() : 'runs only inside the kprobe test VM (BPF_TS_VM)';
if (skip) console.log(`skipped: kprobe end-to-end tests ${skip}`);

const FUNCS = ['--filter-func', '(nf_hook_slow|kfree_skb_reason|sk_skb_reason_drop|ip_rcv|ip_local_deliver|__netif_receive_skb|icmp_rcv|arp_rcv|ip6_rcv_core|ipv6_rcv)'];

// Upstream's CI scenarios, pcap filters included: they must load on 6.1 too (its verifier
// checks a variable-size helper destination as a read, which pcap2ebpf's copy satisfies).
if (!skip) scenarios('kprobe', '(?:kfree_skb_reason|sk_skb_reason_drop)', 'nf_hook_slow', FUNCS);

describe.skipIf(skip !== undefined)('pwru end to end (kprobe and fentry backends, no pcap filter)', () => {
  let net: NetnsPair;
  beforeAll(() => {
    net = new NetnsPair();
    net.exec(net.nsB, ['iptables', '-w', '10', '-I', 'INPUT', '1', '-p', 'tcp', '--dport', '8080', '-j', 'DROP']);
  });
  afterAll(() => net?.destroy());

  it.each(['kprobe', 'fentry'])('%s: nf_hook_slow then kfree_skb_reason(SKB_DROP_REASON_NETFILTER_DROP) for a drop in a namespace', async (backend) => {
    const p = new PwruProcess([`--backend=${backend}`, ...FUNCS, '--filter-netns', `/run/netns/${net.nsB}`, '--filter-skb-expr', 'skb->len > 0']);
    try {
      await p.ready(300_000);
      net.connect(net.b, 8080);
      const seen = await p.waitFor(/8080\(tcp\)\s+kfree_skb_reason\(SKB_DROP_REASON_NETFILTER_DROP\)/, 30_000);
      expect(await p.stop()).toBe(0);
      expect(seen).toBe(true);
      const lines = p.stdout.split('\n');
      const dropAt = lines.findIndex((l) => l.includes('SKB_DROP_REASON_NETFILTER_DROP'));
      expect(lines.slice(0, dropAt).some((l) => l.endsWith(' nf_hook_slow'))).toBe(true);
      expect(p.stderr).toMatch(new RegExp(`INFO Attaching \\w+( programs)? via=${backend}\n`));
    } finally {
      p.child.kill('SIGKILL');
    }
  }, 400_000);
});
