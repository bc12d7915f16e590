// Inside the test VM (tools/vm/test.sh): the same CO-RE object, built once against the 6.18
// host's vmlinux.h, loads and computes the right values on 5.10, 6.1 and 6.12.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkCoreObject, countMultiOpens, countOpens, OBJECT_DIR } from '../../test/object/core-checks.js';
import { probeLinkType } from '../features/probes.js';
import { loadObjectFile } from './load.js';

const skip = process.env.BPF_TS_VM ? undefined : 'runs only inside the test VM (tools/vm/test.sh)';

describe.skipIf(skip)('BPF objects on this kernel', () => {
  it('relocates every CO-RE kind against this kernel and runs', () => {
    checkCoreObject();
  });

  it('attaches kprobe, kretprobe and tracepoint programs by their sections', () => {
    const hits = countOpens();
    expect(hits.kprobe_hits).toBeGreaterThanOrEqual(5n);
    expect(hits.kretprobe_hits).toBe(hits.kprobe_hits);
    expect(hits.tracepoint_hits).toBeGreaterThanOrEqual(5n);
    expect(hits.last_dfd).toBe(-100n); // AT_FDCWD, read from pt_regs through CO-RE
  });

  const multi = skip ? undefined : probeLinkType('kprobe_multi');
  it.skipIf(!multi?.supported)(
    `attaches kprobe.multi (glob) and kretprobe.multi programs by section${multi?.supported ? '' : ` (skipped: ${multi?.detail ?? 'no VM'})`}`,
    () => {
      const hits = countMultiOpens();
      expect(hits.multi_hits).toBeGreaterThanOrEqual(5n);
      expect(hits.multi_ret_hits).toBe(hits.multi_hits);
    },
  );

  it('loads maps, global data and subprograms', () => {
    const obj = loadObjectFile(join(OBJECT_DIR, 'globals.bpf.o'), { globals: { verdict: 1 } });
    try {
      expect(obj.programs.xdp_count!.testRun({ data: new Uint8Array(64) }).retval).toBe(1);
    } finally {
      obj.close();
    }
  });
});
