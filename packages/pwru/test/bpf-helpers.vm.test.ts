import { call, exit, Helper, Mov, R0 } from 'bpf-asm-ts';
import { Program, ProgramType } from 'bpf-loader-ts';
import { describe, expect, it } from 'vitest';
import { bpfHelperCalls, jitedBpfSymbols } from '../src/discovery/bpf-helpers.js';
import { jitedBpfHelperCalls } from '../src/kernel/bpf-helpers.js';
import { Kcore } from '../src/kernel/kcore.js';
import { Ksyms } from '../src/ksyms.js';

// Inside the Debian 6.1 VM (tools/vm): this machine's 6.18 has no /proc/kcore. A JITed program of
// ours, read back through /proc/kcore and decoded, must show exactly the helpers it calls.
const skip = !process.env.BPF_TS_VM
  ? 'runs only inside the test VM (BPF_TS_VM)'
  : process.getuid?.() !== 0
    ? 'needs root'
    : process.arch !== 'x64'
      ? 'amd64 only'
      : undefined;
if (skip) console.log(`skipped: /proc/kcore BPF helper scan ${skip}`);

describe.skipIf(skip !== undefined)('--filter-track-bpf-helpers on a real JIT image (/proc/kcore)', () => {
  it('finds the helpers a loaded program calls, by kallsyms name', () => {
    using prog = Program.load({
      name: 'pwrut_helpers',
      type: ProgramType.SCHED_CLS,
      instructions: [call(Helper.ktime_get_ns), call(Helper.get_prandom_u32), Mov.imm(R0, 0), exit()],
    });
    const ksyms = Ksyms.load();
    const sym = jitedBpfSymbols(ksyms).find((s) => s.name === `bpf_prog_${prog.info().tag}_pwrut_helpers[bpf]`);
    expect(sym).toBeDefined();
    using kcore = Kcore.open();
    const ours = bpfHelperCalls({
      programs: [sym!],
      read: (addr, len) => kcore.read(addr, len),
      nameAt: (addr) => ksyms.exact({ hi: Number(addr >> 32n), lo: Number(addr & 0xffffffffn) }),
    });
    expect(ours).toEqual(['bpf_ktime_get_ns', 'bpf_user_rnd_u32']);
    // The whole-system scan includes them too.
    expect(jitedBpfHelperCalls(ksyms)).toEqual(expect.arrayContaining(['bpf_ktime_get_ns', 'bpf_user_rnd_u32']));
  });
});
