import { execFileSync } from 'node:child_process';
import { trackScenarios } from './track-scenarios.js';

// Inside the Debian 6.1 VM (tools/vm), whose kernel has kprobes and BPF trampolines: the DNAT
// scenario with the kprobe backend (freed skbs forgotten by a kprobe on kfree_skbmem attached
// before the event kprobes, so kfree_skbmem's own event still shows the tracked skb; clones
// followed by fexit) and with the fentry backend, plus --filter-non-skb-funcs on nf_nat_setup_info,
// which runs in nsB's PREROUTING hook on the packet's stack. Few functions: emulated CPUs attach
// kprobes slowly.
if (process.env.BPF_TS_VM) {
  try {
    execFileSync('modprobe', ['-a', 'nf_nat', 'nft_chain_nat', 'xt_nat'], { stdio: 'ignore' });
  } catch {
    // iptables asks the kernel to load what it needs anyway.
  }
  const extra = ['--filter-func', '(ip_rcv|nf_hook_slow|ip_local_deliver|tcp_v4_rcv|kfree_skb_reason|kfree_skbmem)'];
  trackScenarios({ backend: 'kprobe', extra, lastFunc: 'kfree_skbmem', nonSkbFunc: 'nf_nat_setup_info', readyTimeoutMs: 300_000 });
  trackScenarios({ backend: 'fentry', extra, lastFunc: 'kfree_skbmem', readyTimeoutMs: 300_000 });
} else console.log('skipped: skb tracking with kprobes and fentry runs only inside the test VM (tools/vm/test.sh)');
