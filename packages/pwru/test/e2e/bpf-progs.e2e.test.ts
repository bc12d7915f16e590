import { existsSync } from 'node:fs';
import { loadKernelBtf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { LoaderSession } from '../../src/kernel/loader-session.js';
import { loadTcTarget } from '../bpf-targets.mjs';
import { e2eSkipReason, PwruProcess } from './netns.js';

// On a kernel that refuses fentry (this machine's 6.18: EPERM), tracing tc/XDP programs must fail
// at once in one line naming the refusal, leaving nothing loaded. (Where fentry works, the VM
// test bpf-progs.vm.test.ts traces real packets.)
const skip = e2eSkipReason();
const refuses = skip === undefined && !new LoaderSession(loadKernelBtf(), 10).features().fentry;
if (skip) console.log(`skipped: tc/XDP tracing refusal test ${skip}`);
else if (!refuses) console.log('skipped: tc/XDP tracing refusal test: this kernel allows fentry');

describe.skipIf(!refuses)('--filter-trace-tc on a kernel that refuses fentry', () => {
  it.each([
    [['--filter-trace-tc'], '--filter-trace-tc needs'],
    [['--filter-trace-xdp', '--filter-func', 'ip_rcv'], '--filter-trace-xdp needs'],
    [['--trace-only-bpf'], '--trace-only-bpf needs'],
  ])('%j fails in one line, exit 1', async (args, needs) => {
    const target = loadTcTarget('pwrut_refuse'); // something to trace, so only the refusal can stop it
    try {
      const p = new PwruProcess(args);
      expect(await p.exited).toBe(1);
      expect(p.stdout).toBe('');
      const lines = p.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(
          `ERROR Failed to run pwru error="${needs} fentry \\(BPF trampolines\\), which this kernel refuses: .*EPERM`,
        ),
      );
    } finally {
      target.program.close();
    }
  });
});

describe.skipIf(skip !== undefined || existsSync('/proc/kcore'))(
  '--filter-track-bpf-helpers on a kernel without /proc/kcore',
  () => {
    it('fails in one line naming /proc/kcore', async () => {
      const p = new PwruProcess(['--filter-track-bpf-helpers']);
      expect(await p.exited).toBe(1);
      expect(p.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(
          /ERROR Failed to run pwru error="--filter-track-bpf-helpers reads the JITed BPF programs from \/proc\/kcore: cannot open \/proc\/kcore: the kernel has no CONFIG_PROC_KCORE"$/,
        ),
      ]);
    });
  },
);
