// In the kprobe-capable VM: a SIGKILLed tracer's kprobe disappears with it.
import { describe, expect, it } from 'vitest';
import { killAttachedChild } from '../../test/sigkill.js';

const inVm = process.env.BPF_TS_VM !== undefined;
if (!inVm) console.warn('skipping kprobe SIGKILL test: not in the test VM');

describe.skipIf(!inVm)('nothing outlives the process (kprobes)', () => {
  it('SIGKILL of a kprobe tracer frees the probe and its program', async () => {
    const r = await killAttachedChild('kprobe');
    expect(r.before[1]).toBe(true);
    expect(r.after[1]).toBe(false); // a kprobe left behind would keep its program loaded
  });
});
