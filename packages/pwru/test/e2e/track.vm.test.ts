import { execFileSync } from 'node:child_process';
import { backendRuns, dropShape, vmSkipReason } from './kernel.js';
import { trackScenarios } from './track-scenarios.js';

// Inside the test VM (tools/vm/test.sh), with every kprobe-family and fentry backend the kernel
// has: the DNAT scenario (freed skbs forgotten by a probe on kfree_skbmem attached before the
// event probes, so kfree_skbmem's own event still shows the tracked skb; clones followed by
// fexit or return probes), plus --filter-non-skb-funcs on nf_nat_setup_info, which runs in nsB's
// PREROUTING hook on the packet's stack, with the kprobe-family backends. Few functions:
// emulated CPUs attach kprobes slowly.
const vm = vmSkipReason();
if (!vm) {
  try {
    execFileSync('modprobe', ['-a', 'nf_nat', 'nft_chain_nat', 'xt_nat'], { stdio: 'ignore' });
  } catch {
    // iptables asks the kernel to load what it needs anyway.
  }
} else console.log(`skipped: skb tracking with kprobes and fentry: ${vm}`);
const drop = vm ? 'kfree_skb_reason' : dropShape().func;
const extra = [
  '--filter-func',
  `(ip_rcv|nf_hook_slow|ip_local_deliver|tcp_v4_rcv|${drop === 'kfree_skb' ? '^kfree_skb$' : drop}|kfree_skbmem)`,
];
for (const run of backendRuns({ fentry: false })) {
  trackScenarios({
    backend: run.backend,
    args: run.args,
    label: run.label,
    skip: vm ?? run.skip,
    extra,
    lastFunc: 'kfree_skbmem',
    ...(run.backend === 'fentry' ? {} : { nonSkbFunc: 'nf_nat_setup_info' }),
    readyTimeoutMs: 300_000,
  });
}
