import { exit, Mov, R0 } from 'bpf-asm-ts';
import { loadKernelBtf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { bpfIdsOf } from '../../test/e2e/netns.js';
import { probeLinkType } from 'bpf-loader-ts';
import { discoverSkbTracepoints } from '../discovery/tracepoints.js';
import { forgetProgram } from '../generate/tracking-code.js';
import { stackLayout, type TrackerProgram } from '../plan/skb-tracking.js';
import { attachTrackers, createTrackMaps } from './attach-trackers.js';

let skip: string | undefined = process.getuid?.() !== 0 ? 'needs root' : undefined;
try {
  loadKernelBtf();
} catch {
  skip ??= 'needs kernel BTF';
}

describe.skipIf(skip !== undefined)('attachTrackers (tp_btf programs on this kernel)', () => {
  const btf = loadKernelBtf();
  const tps = discoverSkbTracepoints(btf, (n) => n === 'kfree_skb' || n === 'consume_skb');
  const gen = { skb: true, byStackid: true, stack: stackLayout(btf) };
  const forget = (name: string): TrackerProgram => {
    const tp = tps.find((t) => t.name === name)!;
    return {
      name: `pwru_t_${name.slice(0, 4)}`,
      insns: forgetProgram(gen, { kind: 'btf' }, tp.skbArg),
      hook: { type: 'tracepoint', name, btfId: tp.btfId },
      order: 'after',
      optional: false,
    };
  };

  it('attaches forgetting programs with the tracking maps, and detaching closes their links', async () => {
    const maps = createTrackMaps();
    try {
      const before = bpfIdsOf(process.pid).links.length;
      const r = attachTrackers([forget('kfree_skb'), forget('consume_skb')], maps);
      expect(bpfIdsOf(process.pid).links.length).toBe(before + 2);
      for (const a of r.attachments) await a.detach(() => {});
      for (const p of r.programs) p.close();
      expect(bpfIdsOf(process.pid).links.length).toBe(before);
    } finally {
      for (const m of Object.values(maps)) m.close();
    }
  });

  it('a program the verifier rejects is one line naming its hook, and leaves nothing attached', () => {
    const maps = createTrackMaps();
    try {
      const before = bpfIdsOf(process.pid);
      const broken: TrackerProgram = { ...forget('consume_skb'), insns: [exit()] }; // r0 never set
      expect(() => attachTrackers([forget('kfree_skb'), broken], maps)).toThrow(
        /^cannot attach the skb-tracking program at tracepoint consume_skb: [^\n]+$/,
      );
      const after = bpfIdsOf(process.pid);
      expect(after.links).toEqual(before.links);
      expect(after.progs).toEqual(before.progs);
    } finally {
      for (const m of Object.values(maps)) m.close();
    }
  });

  it('skips an optional kprobe target the kernel cannot probe (and, without kprobes at all, fails in one line)', () => {
    const maps = createTrackMaps();
    try {
      const skipped: string[] = [];
      const kp: TrackerProgram = {
        name: 'pwru_t_kp',
        insns: [Mov.imm(R0, 0), exit()],
        hook: { type: 'kprobe', fn: 'no_such_function_pwru', retprobe: false },
        order: 'before',
        optional: true,
      };
      if (!probeLinkType('kprobe').supported) {
        // CONFIG_KPROBES off: the PMU is missing, which is not a missing target.
        expect(() => attachTrackers([kp], maps)).toThrow(
          /^cannot attach the skb-tracking program at kprobe no_such_function_pwru: [^\n]+$/,
        );
        return;
      }
      const r = attachTrackers([kp], maps, (what) => skipped.push(what));
      expect(skipped).toEqual(['kprobe no_such_function_pwru']);
      expect(r.attachments).toEqual([]);
      for (const p of r.programs) p.close();
    } finally {
      for (const m of Object.values(maps)) m.close();
    }
  });
});
