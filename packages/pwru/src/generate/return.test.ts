import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Class, Helper, type Instruction, link } from 'bpf-asm-ts';
import { Btf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { EventKind, eventLayout, HEADER, type EventSections } from '../event.js';
import { PwruError } from '../errors.js';
import { planTrace } from '../plan/programs.js';
import { returnFormats } from '../plan/return-probes.js';
import { kernelLayoutFromBtf } from './btf-layout.js';
import { generateProgram, MAPS } from './program.js';
import { generateReturnProgram, RETURN_MAP, type ReturnProgramOptions } from './return.js';

const btf61 = Btf.parse(
  gunzipSync(readFileSync(new URL('../../../btf/test/data/vmlinux-6.1.btf.gz', import.meta.url))),
);
const kernel61 = kernelLayoutFromBtf(btf61);
const regs = kernel61.ptRegs!;
const NONE: EventSections = {
  meta: false,
  cb: false,
  tuple: false,
  tunnel: false,
  stack: false,
  caller: false,
  ret: true,
};
const ALL: EventSections = {
  meta: true,
  cb: true,
  tuple: true,
  tunnel: true,
  stack: true,
  caller: true,
  metadata: 2,
  ret: true,
};

const kretprobe = (sections: EventSections): ReturnProgramOptions => ({
  kind: 'kretprobe',
  layout: eventLayout(sections),
  frame: { kind: 'sp', sp: regs.sp },
  retval: { kind: 'regs', ax: regs.ax },
  eventsMap: MAPS.events,
  lostMap: MAPS.lost,
});
const fexit = (sections: EventSections, argCount: number, skbArg: number): ReturnProgramOptions => ({
  kind: 'fexit',
  layout: eventLayout(sections),
  frame: { kind: 'skb', skbArg },
  retval: { kind: 'ctx', argCount },
  eventsMap: MAPS.events,
  lostMap: MAPS.lost,
});

const isStore = (x: Instruction): boolean => x.class === Class.ST || x.class === Class.STX;
const isLoad = (x: Instruction): boolean => x.class === Class.LDX;
const calls = (insns: Instruction[], helper: number): number[] =>
  insns.flatMap((x, i) => (x.isHelperCall && x.imm === helper ? [i] : []));

describe('generateReturnProgram', () => {
  it('links for every return flavour and output combination, referencing only pwru maps', () => {
    for (const sections of [NONE, ALL]) {
      for (const o of [
        kretprobe(sections),
        { ...kretprobe(sections), kind: 'kprobe-multi-return' as const },
        fexit(sections, 3, 0),
      ]) {
        const p = link(generateReturnProgram(o));
        const maps = new Set(p.relocations.map((r) => r.symbol));
        expect([...maps].sort()).toEqual([MAPS.events, MAPS.lost, RETURN_MAP].sort());
      }
    }
  });

  it('looks the call up before reserving, and deletes it on both the emitted and the lost path', () => {
    const insns = generateReturnProgram(kretprobe(ALL));
    const [lookup] = calls(insns, Helper.map_lookup_elem);
    const [reserve] = calls(insns, Helper.ringbuf_reserve);
    const [del] = calls(insns, Helper.map_delete_elem);
    expect(lookup).toBeLessThan(reserve!);
    expect(del).toBeGreaterThan(calls(insns, Helper.ringbuf_submit)[0]!);
    // The lost path jumps to the delete, not to the exit.
    const forget = insns.findIndex((x) => x.comment === 'forget the entry');
    expect(forget).toBeGreaterThan(reserve!);
    expect(calls(insns, Helper.ringbuf_reserve)).toHaveLength(1);
  });

  it('copies the whole entry record and then overwrites time, CPU, kind, stack id and the return value', () => {
    const layout = eventLayout(ALL);
    const insns = generateReturnProgram(kretprobe(ALL));
    const copies = insns.filter(
      (x) => x.comment === 'event: the entry event, then what differs at return' && isStore(x),
    );
    const n = layout.size / 8;
    expect(copies.slice(0, n).map((x) => x.offset)).toEqual(Array.from({ length: n }, (_, i) => 8 * i));
    expect(copies.slice(n).map((x) => x.offset)).toEqual([
      HEADER.ts,
      HEADER.cpu,
      HEADER.kind,
      layout.stack,
      layout.ret,
    ]);
    const kind = copies.slice(n).find((x) => x.offset === HEADER.kind)!;
    expect(kind.imm).toBe(EventKind.Return);
  });

  it('reads rax from pt_regs for kretprobes and ctx[argCount] for fexit', () => {
    const retLoad = (insns: Instruction[]) => insns.find((x) => x.comment === 'return value')!;
    expect(retLoad(generateReturnProgram(kretprobe(NONE))).offset).toBe(regs.ax.offset);
    expect(retLoad(generateReturnProgram(fexit(NONE, 4, 1))).offset).toBe(32);
  });

  it('keys kretprobes by the entry stack pointer (8 below the one after return) and fexit by the skb argument', () => {
    const key = (insns: Instruction[]) => insns.filter((x) => x.comment === 'key: pid_tgid, function address, frame');
    const k = key(generateReturnProgram(kretprobe(NONE)));
    const spLoad = k.findIndex((x) => isLoad(x) && x.offset === regs.sp.offset);
    expect(spLoad).toBeGreaterThan(0);
    expect(k[spLoad + 1]!.imm).toBe(-8);
    expect(key(generateReturnProgram(fexit(NONE, 4, 2))).some((x) => isLoad(x) && x.offset === 16)).toBe(true);
  });

  it('refuses a layout without the return-value section', () => {
    expect(() => generateReturnProgram(kretprobe({ ...NONE, ret: false }))).toThrow(/return-value section/);
  });
});

describe('entry programs with --output-return', () => {
  const entry = (kind: 'kprobe' | 'fentry' | 'tracepoint', recordReturn: boolean) =>
    generateProgram({
      layout: eventLayout({ ...NONE, meta: true, tuple: true }),
      kernel: kernel61,
      shape: { kind, skbArg: 1, site: 0, argCount: 3 },
      filters: { mark: 0, mask: 0, netns: 0, ifindex: 0 },
      haveFuncIp: true,
      recordReturn,
    });

  it('store the built record in the return map right before submitting it, keyed on the stack pointer (kprobe) or skb (fentry)', () => {
    for (const kind of ['kprobe', 'fentry'] as const) {
      const insns = entry(kind, true);
      const [update] = calls(insns, Helper.map_update_elem);
      const [submit] = calls(insns, Helper.ringbuf_submit);
      expect(update).toBeLessThan(submit!);
      expect(calls(insns, Helper.ringbuf_reserve)[0]).toBeLessThan(update!);
      const rec = insns.filter((x) => x.comment?.startsWith('--output-return'));
      expect(rec.some((x) => isLoad(x) && x.offset === regs.sp.offset)).toBe(kind === 'kprobe');
      expect(new Set(link(insns).relocations.map((r) => r.symbol)).has(RETURN_MAP)).toBe(true);
    }
  });

  it('do not touch the return map without the flag', () => {
    expect(calls(entry('kprobe', false), Helper.map_update_elem)).toEqual([]);
  });

  it('cannot be asked of tracepoint programs', () => {
    expect(() => entry('tracepoint', true)).toThrow(/no return/);
  });
});

describe('planTrace with --output-return', () => {
  const functions = ['nf_hook_slow', 'kfree_skb_reason', 'ip_rcv_core', 'napi_gro_receive'].map((name) => ({
    name,
    position: name === 'napi_gro_receive' ? 2 : 1,
  }));
  const formats = returnFormats(btf61, [], functions);
  const base = {
    layout: eventLayout({ ...NONE, meta: true }),
    kernel: kernel61,
    filters: { mark: 0, mask: 0, netns: 0, ifindex: 0 },
    fragments: [],
    functions,
    haveFuncIp: true,
    returns: formats,
  };

  it('kprobe: one kretprobe program for the functions that return a value (void ones get none)', () => {
    const plan = planTrace({ ...base, backend: 'kprobe' });
    const ret = plan.programs.filter((p) => p.kind === 'kretprobe');
    expect(ret).toHaveLength(1);
    expect(ret[0]!.attach).toEqual({
      type: 'kretprobe',
      functions: functions.filter((f) => f.name !== 'kfree_skb_reason'),
    });
    expect(plan.targets).toBe(4 + 3);
  });

  it('kprobe-multi: the same as one return link', () => {
    const plan = planTrace({ ...base, backend: 'kprobe-multi' });
    expect(plan.programs.filter((p) => p.attach.type === 'kprobe-multi-return').map((p) => p.kind)).toEqual([
      'kprobe-multi-return',
    ]);
  });

  it('fentry: one fexit program per function that returns a value, reading the return after its arguments', () => {
    const signatures = new Map(
      functions.map((f) => [
        f.name,
        { btfId: btf61.typeByName(f.name, 'func').id, argCount: f.name === 'nf_hook_slow' ? 4 : 2 },
      ]),
    );
    const plan = planTrace({ ...base, backend: 'fentry', signatures });
    const fx = plan.programs.filter((p) => p.kind === 'fexit');
    expect(fx.map((p) => (p.attach as { function: { name: string } }).function.name)).toEqual([
      'nf_hook_slow',
      'ip_rcv_core',
      'napi_gro_receive',
    ]);
    expect(fx[0]!.insns.find((x) => x.comment === 'return value')!.offset).toBe(32);
    expect(plan.targets).toBe(4 + 3);
  });

  it('tracepoint: refused with a one-line error naming the backends that can', () => {
    expect(() => planTrace({ ...base, backend: 'tracepoint', tracepoints: [] })).toThrow(PwruError);
    expect(() => planTrace({ ...base, backend: 'tracepoint', tracepoints: [] })).toThrow(
      '--output-return needs the kprobe, kprobe-multi or fentry backend',
    );
  });
});
