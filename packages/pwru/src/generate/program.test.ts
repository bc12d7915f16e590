import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { link } from 'bpf-asm-ts';
import { Btf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { eventLayout, type EventSections } from '../event.js';
import { kernelLayoutFromBtf } from './btf-layout.js';
import { generateProgram, MAPS, type ProbeKind } from './program.js';

const kernel61 = kernelLayoutFromBtf(Btf.parse(gunzipSync(readFileSync(new URL('../../../btf/test/data/vmlinux-6.1.btf.gz', import.meta.url)))));
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
