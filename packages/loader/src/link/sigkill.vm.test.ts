// In the kprobe-capable VM: a SIGKILLed tracer's kprobe disappears with it.
import { describe, expect, it } from 'vitest';
import { killAttachedChild } from '../../test/sigkill.js';
import { probeLinkType } from '../features/probes.js';

const inVm = process.env.BPF_TS_VM !== undefined;
if (!inVm) console.warn('skipping kprobe SIGKILL test: not in the test VM');
const kprobes = inVm ? probeLinkType('kprobe') : undefined;
const skip = !inVm
  ? 'not in the test VM'
  : kprobes!.supported
    ? undefined
    : `this kernel has no ${kprobes!.feature}: ${kprobes!.detail}`;

describe.skipIf(skip !== undefined)(
  `nothing outlives the process (kprobes)${skip ? ` — skipped: ${skip}` : ''}`,
  () => {
    it('SIGKILL of a kprobe tracer frees the probe and its program', async () => {
      const r = await killAttachedChild('kprobe');
      expect(r.before[1]).toBe(true);
      expect(r.after[1]).toBe(false); // a kprobe left behind would keep its program loaded
    });
  },
);
