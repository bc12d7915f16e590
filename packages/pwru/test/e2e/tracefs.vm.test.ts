import { existsSync } from 'node:fs';
import { e2eSkipReason } from './netns.js';
import { tracefsUnmountedScenario } from './tracefs-scenario.js';

// In the VM kernels (kprobes): pwru mounts tracefs itself when a fresh machine has none.
const skip = process.env.BPF_TS_VM ? e2eSkipReason() : 'runs only inside the kprobe test VM (BPF_TS_VM)';
if (skip) console.log(`skipped: tracefs end-to-end test ${skip}`);
if (!skip) tracefsUnmountedScenario(existsSync('/sys/bus/event_source/devices/kprobe/type'));
