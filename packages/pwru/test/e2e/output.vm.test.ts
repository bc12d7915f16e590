import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { e2eSkipReason, NetnsPair, PwruProcess } from './netns.js';

// Inside the Debian 6.1 VM (tools/vm, BPF_TS_VM=6.1): bpf_snprintf_btf dumps from kprobe and
// fentry programs (the host can only check tp_btf), and the summary counting a drop reason read
// from kfree_skb_reason's second argument. Few functions: emulated CPUs attach slowly.
const skip = process.env.BPF_TS_VM ? e2eSkipReason() : 'runs only inside the kprobe test VM (BPF_TS_VM)';
if (skip) console.log(`skipped: output VM tests ${skip}`);

const FUNCS = ['--filter-func', '(nf_hook_slow|kfree_skb_reason|ip_rcv)'];

describe.skipIf(skip !== undefined)('pwru dumps and summary (kprobe and fentry backends)', () => {
  let net: NetnsPair;
  beforeAll(() => {
    net = new NetnsPair();
    net.exec(net.nsB, ['iptables', '-w', '10', '-I', 'INPUT', '1', '-p', 'tcp', '--dport', '8080', '-j', 'DROP']);
  });
  afterAll(() => net?.destroy());

  it.each(['kprobe', 'fentry'])('%s: --output-skb dumps the dropped skb with its real len; the summary counts the drop', async (backend) => {
    const p = new PwruProcess([`--backend=${backend}`, ...FUNCS, '--output-skb', '--output-skb-shared-info', '--output-summary', '--filter-netns', `/run/netns/${net.nsB}`, '--filter-skb-expr', 'skb->len > 0']);
    try {
      await p.ready(300_000);
      net.connect(net.b, 8080);
      const drop = /8080\(tcp\)\s+kfree_skb_reason\(SKB_DROP_REASON_NETFILTER_DROP\)\n\(struct sk_buff\)\{/;
      const seen = await p.waitFor(drop, 30_000);
      expect(await p.stop()).toBe(0);
      expect(seen).toBe(true);
      const lines = p.stdout.split('\n');
      const at = lines.findIndex((l) => l.endsWith(' kfree_skb_reason(SKB_DROP_REASON_NETFILTER_DROP)'));
      const len = lines[at]!.trim().split(/\s+/)[8]!;
      const end = lines.indexOf('}', at + 1);
      expect(lines.slice(at + 1, end).join('\n')).toContain(`.len = (unsigned int)${len},`);
      expect(lines[end + 1]).toBe('(struct skb_shared_info){');
      expect(p.stdout).toMatch(/\nkfree_skb_reason +\d+\n/);
      expect(p.stdout).toMatch(/\nSKB_DROP_REASON_NETFILTER_DROP +\d+\n/);
    } finally {
      p.child.kill('SIGKILL');
    }
  }, 400_000);
});
