import { e2eSkipReason } from './netns.js';
import { scenarios } from './scenarios.js';

// Run inside the Debian 6.1 VM (tools/vm, BPF_TS_VM=6.1), whose kernel has kprobes: upstream's
// scenarios with the kprobe backend, where a netfilter drop shows as kfree_skb_reason(...).
const skip = process.env.BPF_TS_VM ? e2eSkipReason() : 'runs only inside the kprobe test VM (BPF_TS_VM)';
if (skip) console.log(`skipped: kprobe end-to-end tests ${skip}`);
if (!skip) scenarios('kprobe', '(?:kfree_skb_reason|sk_skb_reason_drop)', 'nf_hook_slow');
