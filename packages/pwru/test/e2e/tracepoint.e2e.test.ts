import { e2eSkipReason } from './netns.js';
import { scenarios } from './scenarios.js';
import { tracefsUnmountedScenario } from './tracefs-scenario.js';

// Upstream pwru's CI scenarios on this machine's kernel (no kprobes) with the tracepoint (tp_btf)
// backend, with traffic only between two network namespaces the tests create. A drop shows as
// the kfree_skb tracepoint with its reason.
const skip = e2eSkipReason();
if (skip) console.log(`skipped: tracepoint end-to-end tests ${skip}`);
scenarios('tracepoint', 'kfree_skb');
if (!skip) tracefsUnmountedScenario(false);
