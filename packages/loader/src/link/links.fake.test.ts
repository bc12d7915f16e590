// Link paths this machine's kernels cannot run (kprobe-multi needs CONFIG_FPROBE; the ioctl
// fallback needs a pre-5.15 kernel), checked at the syscall boundary with the fake backend.
import { exit, Mov, R0 } from 'bpf-asm-ts';
import { describe, expect, it } from 'vitest';
import { Program } from '../prog/program.js';
import { LinkCreateAttr, PerfEventAttr } from '../sys/attr.js';
import { Errno } from '../sys/errno.js';
import { FakeBackend } from '../sys/fake-backend.js';
import { AttachType, BpfCommand, ProgramType } from '../sys/generated/constants.js';
import { readNumber } from '../sys/layout.js';
import { attachKprobe } from './kprobe.js';
import { attachKprobeMulti, KPROBE_MULTI_RETURN } from './kprobe-multi.js';
import { PerfIoctl } from './perf-event.js';
import { BpfError, NotSupportedError } from '../errors.js';
import { attachTracing, isTracingAttachType } from './tracing.js';

const load = (fake: FakeBackend, expectedAttachType?: AttachType) =>
  Program.load(
    { type: ProgramType.KPROBE, expectedAttachType, instructions: [Mov.imm(R0, 0), exit()] },
    { backend: fake },
  );

const lastLinkCreate = (fake: FakeBackend) =>
  new DataView(fake.calls.filter((c) => c.code === BpfCommand.LINK_CREATE).at(-1)!.attr!.buffer);

describe('kprobe-multi attach attributes', () => {
  it('passes symbol names as an array of string pointers, with cookies and the return flag', () => {
    const fake = new FakeBackend();
    const prog = load(fake, AttachType.TRACE_KPROBE_MULTI);
    const l = attachKprobeMulti(prog, { symbols: ['tcp_v4_rcv', 'ip_rcv'], cookies: [7n, 9n], retprobe: true });
    expect(l.target).toBe('kprobe-multi (2 functions)');
    const a = lastLinkCreate(fake);
    const F = LinkCreateAttr.fields;
    expect(readNumber(a, F.attachType)).toBe(AttachType.TRACE_KPROBE_MULTI);
    expect(readNumber(a, F.kprobeMultiFlags)).toBe(KPROBE_MULTI_RETURN);
    expect(readNumber(a, F.kprobeMultiCnt)).toBe(2);
    expect(readNumber(a, F.kprobeMultiAddrs)).toBe(0);
    const syms = new DataView(fake.memoryAt(readNumber(a, F.kprobeMultiSyms))!.slice(0, 16).buffer);
    expect([
      fake.cString(Number(syms.getBigUint64(0, true))),
      fake.cString(Number(syms.getBigUint64(8, true))),
    ]).toEqual(['tcp_v4_rcv', 'ip_rcv']);
    const cookies = new DataView(fake.memoryAt(readNumber(a, F.kprobeMultiCookies))!.slice(0, 16).buffer);
    expect([cookies.getBigUint64(0, true), cookies.getBigUint64(8, true)]).toEqual([7n, 9n]);
  });

  it('passes addresses when given', () => {
    const fake = new FakeBackend();
    attachKprobeMulti(load(fake, AttachType.TRACE_KPROBE_MULTI), { addresses: [0xffffffff81000010n] });
    const a = lastLinkCreate(fake);
    const addrs = fake.memoryAt(readNumber(a, LinkCreateAttr.fields.kprobeMultiAddrs))!;
    expect(new DataView(addrs.slice(0, 8).buffer).getBigUint64(0, true)).toBe(0xffffffff81000010n);
    expect(readNumber(a, LinkCreateAttr.fields.kprobeMultiSyms)).toBe(0);
  });

  it('a kernel without kprobe-multi gives a NotSupportedError saying what is needed', () => {
    const fake = new FakeBackend().onBpf(BpfCommand.LINK_CREATE, -Errno.EOPNOTSUPP);
    expect(() => attachKprobeMulti(load(fake), { symbols: ['x'] })).toThrow(NotSupportedError);
    expect(() => attachKprobeMulti(load(fake), { symbols: ['x'] })).toThrow(/5\.18\+ with CONFIG_FPROBE/);
  });

  it('rejects mismatched cookies before any syscall', () => {
    const fake = new FakeBackend();
    const prog = load(fake);
    const before = fake.calls.length;
    expect(() => attachKprobeMulti(prog, { symbols: ['a', 'b'], cookies: [1n] })).toThrow(/1 cookies for 2 functions/);
    expect(fake.calls.length).toBe(before);
  });
});

describe('kprobe through the perf kprobe PMU', () => {
  const pmu = { type: 8, retprobeBit: 0 };

  it('writes the PMU type, the retprobe bit and the function name pointer into perf_event_attr', () => {
    const fake = new FakeBackend();
    attachKprobe(load(fake), 'tcp_v4_rcv', { retprobe: true, pmu });
    const attr = new DataView(fake.calls.find((c) => c.op === 'perfEventOpen')!.attr!.buffer);
    const F = PerfEventAttr.fields;
    expect(readNumber(attr, F.type)).toBe(8);
    expect(readNumber(attr, F.config)).toBe(1);
    expect(fake.cString(readNumber(attr, F.config1))).toBe('tcp_v4_rcv');
  });

  it('falls back to PERF_EVENT_IOC_SET_BPF + ENABLE on kernels without perf links', () => {
    const fake = new FakeBackend().onBpf(BpfCommand.LINK_CREATE, -Errno.EINVAL);
    const a = attachKprobe(load(fake), 'tcp_v4_rcv', { pmu });
    expect(a.isLink).toBe(false);
    expect(fake.calls.filter((c) => c.op === 'ioctl').map((c) => c.code)).toEqual([
      PerfIoctl.SET_BPF,
      PerfIoctl.ENABLE,
    ]);
    a.close();
    expect(fake.closed.length).toBe(1); // just the perf event fd
  });
});

describe('attachTracing takes only tracing attach types', () => {
  it('passes the typed attach type to BPF_LINK_CREATE', () => {
    const fake = new FakeBackend();
    attachTracing(load(fake, AttachType.TRACE_FEXIT), { attachType: AttachType.TRACE_FEXIT, target: 'fexit x' });
    expect(readNumber(lastLinkCreate(fake), LinkCreateAttr.fields.attachType)).toBe(AttachType.TRACE_FEXIT);
  });

  it('refuses another attach type before any syscall (the type forbids it too)', () => {
    const fake = new FakeBackend();
    const prog = load(fake);
    const before = fake.calls.length;
    // @ts-expect-error XDP is not a tracing attach type
    expect(() => attachTracing(prog, { attachType: AttachType.XDP })).toThrow(BpfError);
    expect(() => attachTracing(prog, { attachType: AttachType.TRACE_KPROBE_MULTI as never })).toThrow(
      /takes a tracing attach type .* not 42/,
    );
    expect(fake.calls.length).toBe(before);
  });

  it('isTracingAttachType narrows exactly the five tracing attach types', () => {
    const tracing = Object.values(AttachType).filter(isTracingAttachType);
    expect(tracing.sort((a, b) => a - b)).toEqual([
      AttachType.TRACE_RAW_TP,
      AttachType.TRACE_FENTRY,
      AttachType.TRACE_FEXIT,
      AttachType.MODIFY_RETURN,
      AttachType.LSM_MAC,
    ]);
    expect(isTracingAttachType(undefined)).toBe(false);
  });
});
