import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { link } from 'bpf-asm-ts';
import { Btf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { eventLayout, HEADER, type EventSections } from '../event.js';
import { kernelLayoutFromBtf } from './btf-layout.js';
import { generateProgram, MAPS, type ProbeKind } from './program.js';

const kernel61 = kernelLayoutFromBtf(
  Btf.parse(gunzipSync(readFileSync(new URL('../../../btf/test/data/vmlinux-6.1.btf.gz', import.meta.url)))),
);
const NONE: EventSections = { meta: false, cb: false, tuple: false, tunnel: false, stack: false, caller: false };
const ALL: EventSections = { meta: true, cb: true, tuple: true, tunnel: true, stack: true, caller: true };

function build(kind: ProbeKind, sections: EventSections, filters = { mark: 0, mask: 0, netns: 0, ifindex: 0 }) {
  return link(
    generateProgram({
      layout: eventLayout(sections),
      kernel: kernel61,
      shape: { kind, skbArg: 0, site: 3, reasonArg: kind === 'tracepoint' ? 2 : undefined, argCount: 3 },
      filters,
      haveFuncIp: true,
    }),
  );
}

describe('generateProgram', () => {
  for (const kind of ['kprobe', 'kprobe-multi', 'tracepoint', 'fentry'] as const) {
    it(`links a ${kind} program for every output combination, referencing only pwru maps`, () => {
      for (const sections of [NONE, ALL, { ...NONE, meta: true, tuple: true }]) {
        const p = build(kind, sections, { mark: 0xa00, mask: 0xf00, netns: 4026531840, ifindex: 1 });
        const maps = new Set(p.relocations.map((r) => r.symbol));
        for (const m of maps) expect(Object.values(MAPS)).toContain(m);
        expect(maps.has(MAPS.events)).toBe(true);
        expect(maps.has(MAPS.stacks)).toBe(sections.stack);
        expect(p.slotCount).toBeLessThan(4096);
      }
    });
  }

  it('reserves exactly the layout size in the ring buffer', () => {
    const layout = eventLayout({ ...NONE, meta: true, tuple: true });
    const insns = generateProgram({
      layout,
      kernel: kernel61,
      shape: { kind: 'tracepoint', skbArg: 0, site: 0 },
      filters: { mark: 0, mask: 0, netns: 0, ifindex: 0 },
      haveFuncIp: false,
    });
    const i = insns.findIndex((x) => x.isHelperCall && x.imm === 131);
    expect(insns[i - 2]!.imm).toBe(layout.size);
  });

  it('emits the mark filter only when a mask is set', () => {
    const withMark = build('tracepoint', NONE, { mark: 1, mask: 0xffffffff, netns: 0, ifindex: 0 });
    const without = build('tracepoint', NONE);
    expect(withMark.instructions.some((x) => x.comment === 'filter: --filter-mark')).toBe(true);
    expect(without.instructions.some((x) => x.comment === 'filter: --filter-mark')).toBe(false);
  });
});

describe('generateProgram: fentry arguments 2 and 3 in the event header', () => {
  const header = (ctxReadable: boolean[], haveFuncArg: boolean) =>
    link(
      generateProgram({
        layout: eventLayout(NONE),
        kernel: kernel61,
        shape: { kind: 'fentry', skbArg: 1, site: 0, argCount: 3, ctxReadable },
        filters: { mark: 0, mask: 0, netns: 0, ifindex: 0 },
        haveFuncIp: true,
        haveFuncArg,
      }),
    ).instructions;
  const LDX = 0x01; // BPF_LDX: loads through the context pointer kept in r6
  const ctxLoads = (insns: ReturnType<typeof header>) =>
    insns.filter((x) => x.class === LDX && x.src === 6).map((x) => x.offset);
  const funcArgCalls = (insns: ReturnType<typeof header>) =>
    insns.filter((x) => x.isHelperCall && x.imm === 183).length;

  it('loads an argument from the context only when its type allows it', () => {
    const insns = header([true, true, false], false);
    expect(ctxLoads(insns)).toEqual([8, 8]); // the skb, then p2; never offset 16 (`const void *daddr`)
    expect(funcArgCalls(insns)).toBe(0);
  });

  it('reads any other argument with bpf_get_func_arg where the kernel has it', () => {
    const insns = header([true, true, false], true);
    expect(ctxLoads(insns)).toEqual([8, 8]);
    expect(funcArgCalls(insns)).toBe(1);
    const call = insns.findIndex((x) => x.isHelperCall && x.imm === 183);
    expect(insns.slice(call - 4, call).find((x) => x.dst === 2)?.imm).toBe(2); // argument index 2
  });

  it('reads nothing it is not told is readable (no BTF facts: no context loads beyond the skb)', () => {
    const insns = link(
      generateProgram({
        layout: eventLayout(NONE),
        kernel: kernel61,
        shape: { kind: 'fentry', skbArg: 0, site: 0, argCount: 3 },
        filters: { mark: 0, mask: 0, netns: 0, ifindex: 0 },
        haveFuncIp: true,
      }),
    ).instructions;
    expect(ctxLoads(insns)).toEqual([0]);
  });
});

describe('generateProgram: the current task in the event header', () => {
  it('stores the pid and the command name (bpf_get_current_comm into the record, 16 bytes)', () => {
    for (const kind of ['kprobe', 'tracepoint', 'fentry'] as const) {
      const insns = build(kind, NONE).instructions;
      const at = insns.findIndex((x) => x.isHelperCall && x.imm === 16);
      expect(at, kind).toBeGreaterThan(0);
      const args = insns.slice(at - 3, at);
      expect(args.map((x) => [x.dst, x.src, x.imm])).toEqual([
        [1, 8, 0], // r1 = r8 (the record)
        [1, 0, HEADER.comm], // r1 += comm's offset
        [2, 0, HEADER.commSize], // r2 = 16
      ]);
    }
  });
});
