// The return-probe attach paths checked at the syscall boundary with bpf-loader-ts's fake
// backend: kprobe-multi return links need CONFIG_FPROBE, which no kernel here has; fexit is also
// tested for real in the VM (test/e2e/return.vm.test.ts), as are kretprobes.
import { exit, Mov, R0 } from 'bpf-asm-ts';
import { attr, AttachType, BpfCommand, FakeBackend, KPROBE_MULTI_RETURN, Program, ProgramType } from 'bpf-loader-ts';
import { describe, expect, it } from 'vitest';
import { Ksyms } from '../ksyms.js';
import type { PlannedProgram } from '../plan/programs.js';
import { attachPlanned } from './attach.js';

const F = attr.LinkCreateAttr.fields;
const lastLinkCreate = (fake: FakeBackend): DataView =>
  new DataView(fake.calls.filter((c) => c.code === BpfCommand.LINK_CREATE).at(-1)!.attr!.buffer);
const u32 = (v: DataView, f: { offset: number }): number => v.getUint32(f.offset, true);
const functions = [
  { name: 'nf_hook_slow', position: 1 },
  { name: 'ip_rcv_core', position: 1 },
];
const ksyms = Ksyms.parse('ffffffff81000100 T nf_hook_slow\nffffffff81000200 t ip_rcv_core\n');

describe('attaching return programs', () => {
  it('kprobe-multi-return: one link over every address, with BPF_F_KPROBE_MULTI_RETURN', async () => {
    const fake = new FakeBackend();
    const prog = Program.load(
      {
        type: ProgramType.KPROBE,
        expectedAttachType: AttachType.TRACE_KPROBE_MULTI,
        instructions: [Mov.imm(R0, 0), exit()],
      },
      { backend: fake },
    );
    const planned: PlannedProgram = {
      name: 'pwru_ret',
      kind: 'kprobe-multi-return',
      insns: [],
      attach: { type: 'kprobe-multi-return', functions },
    };
    let progress = 0;
    const r = await attachPlanned(prog, planned, (n) => (progress += n), new AbortController().signal, 10, ksyms);
    expect(r).toMatchObject({ ignored: 0 });
    expect(r.attachments.map((a) => a.count)).toEqual([2]);
    expect(progress).toBe(2);
    const a = lastLinkCreate(fake);
    expect(u32(a, F.attachType)).toBe(AttachType.TRACE_KPROBE_MULTI);
    expect(u32(a, F.kprobeMultiFlags)).toBe(KPROBE_MULTI_RETURN);
    expect(u32(a, F.kprobeMultiCnt)).toBe(2);
  });

  it('the entry flavour still attaches without the return flag', async () => {
    const fake = new FakeBackend();
    const prog = Program.load(
      {
        type: ProgramType.KPROBE,
        expectedAttachType: AttachType.TRACE_KPROBE_MULTI,
        instructions: [Mov.imm(R0, 0), exit()],
      },
      { backend: fake },
    );
    await attachPlanned(
      prog,
      { name: 'pwru_skb_1', kind: 'kprobe-multi', insns: [], attach: { type: 'kprobe-multi', functions } },
      () => {},
      new AbortController().signal,
      10,
      ksyms,
    );
    expect(u32(lastLinkCreate(fake), F.kprobeMultiFlags)).toBe(0);
  });

  it('fexit: a tracing link of the program loaded for TRACE_FEXIT', async () => {
    const fake = new FakeBackend();
    const prog = Program.load(
      {
        type: ProgramType.TRACING,
        expectedAttachType: AttachType.TRACE_FEXIT,
        attachBtfId: 42,
        instructions: [Mov.imm(R0, 0), exit()],
      },
      { backend: fake },
    );
    const planned: PlannedProgram = {
      name: 'pwru_exit_0',
      kind: 'fexit',
      insns: [],
      attach: { type: 'fexit', function: functions[0]!, btfId: 42 },
    };
    const r = await attachPlanned(prog, planned, () => {}, new AbortController().signal, 10, undefined);
    expect(r.attachments.map((x) => x.count)).toEqual([1]);
    expect(u32(lastLinkCreate(fake), F.attachType)).toBe(AttachType.TRACE_FEXIT);
  });
});
