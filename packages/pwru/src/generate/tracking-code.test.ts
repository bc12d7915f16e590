import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Helper, type Instruction, JEq, link, R1, R6 } from 'bpf-asm-ts';
import { Btf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { eventLayout, HEADER } from '../event.js';
import { stackLayout } from '../plan/skb-tracking.js';
import { kernelLayoutFromBtf } from './btf-layout.js';
import { generateProgram, MAPS, type ProbeKind } from './program.js';
import {
  fexitFollowProgram,
  followEntryProgram,
  followReturnProgram,
  forgetProgram,
  TRACK_MAPS,
  type TrackCtx,
  type TrackGen,
} from './tracking-code.js';

const btf61 = Btf.parse(
  gunzipSync(readFileSync(new URL('../../../btf/test/data/vmlinux-6.1.btf.gz', import.meta.url))),
);
const kernel61 = kernelLayoutFromBtf(btf61);
const stack = stackLayout(btf61, 'x64');
const layout = eventLayout({ meta: true, cb: false, tuple: true, tunnel: false, stack: false, caller: false });
const kprobeCtx: TrackCtx = {
  kind: 'kprobe',
  args: kernel61.ptRegs!.args,
  sp: kernel61.ptRegs!.sp,
  ret: { offset: 80, size: 8 },
};

const track = (skb: boolean, byStackid: boolean): TrackGen => ({ skb, byStackid, stack });

function build(kind: ProbeKind, t?: TrackGen, source?: 'stack') {
  return link(
    generateProgram({
      layout,
      kernel: kernel61,
      shape: { kind, skbArg: 0, site: 0, argCount: 2, ...(source ? { source } : {}) },
      filters: {
        mark: 1,
        mask: 0xff,
        netns: 0,
        ifindex: 0,
        fragments: [(e, reject) => void e.section('filter: a pcap stand-in').emit(JEq.imm(R1, 0, reject))],
      },
      haveFuncIp: true,
      ...(t ? { track: t } : {}),
    }),
  );
}

const maps = (p: { relocations: readonly { symbol: string }[] }): Set<string> =>
  new Set(p.relocations.map((r) => r.symbol));
const calls = (insns: readonly Instruction[], helper: number): number =>
  insns.filter((x) => x.isHelperCall && x.imm === helper).length;
const sections = (insns: readonly Instruction[]): Set<string> => new Set(insns.map((x) => x.comment ?? ''));

describe('stack layout', () => {
  it('reads task_struct.stack from BTF and uses a 16 KiB THREAD_SIZE without KASAN', () => {
    expect(stack.threadSize).toBe(16384);
    expect(stack.taskStack).toBeGreaterThan(0);
  });

  it('refuses architectures whose kernel stack size pwru does not know', () => {
    expect(() => stackLayout(btf61, 'riscv64')).toThrow(
      '--filter-track-skb-by-stackid knows the kernel stack size only on x86-64 and arm64, not riscv64',
    );
  });
});

describe('tracking in the event programs', () => {
  for (const kind of ['kprobe', 'tracepoint', 'fentry'] as const) {
    it(`${kind}: no tracking code unless asked`, () => {
      const p = build(kind);
      expect([...maps(p)].filter((m) => (Object.values(TRACK_MAPS) as string[]).includes(m))).toEqual([]);
      expect(calls(p.instructions, Helper.get_current_task)).toBe(0);
    });

    it(`${kind}: --filter-track-skb looks the address up before the filters and records it after`, () => {
      const p = build(kind, track(true, false));
      expect(maps(p)).toEqual(new Set([MAPS.events, MAPS.lost, TRACK_MAPS.skbs]));
      const lookupAt = p.instructions.findIndex((x) => x.comment?.startsWith('track: is this skb address tracked'));
      const markAt = p.instructions.findIndex((x) => x.comment === 'filter: --filter-mark');
      const recordAt = p.instructions.findIndex((x) => x.comment === 'track: remember the matched skb address');
      expect(lookupAt).toBeGreaterThan(0);
      expect(markAt).toBeGreaterThan(lookupAt);
      expect(recordAt).toBeGreaterThan(markAt);
      expect(calls(p.instructions, Helper.get_current_task)).toBe(0);
    });

    it(`${kind}: --filter-track-skb-by-stackid keeps a stack → skb map (and its reverse) instead`, () => {
      const p = build(kind, track(false, true));
      expect(maps(p)).toEqual(new Set([MAPS.events, MAPS.lost, TRACK_MAPS.stackidSkb, TRACK_MAPS.skbStackid]));
      // Once for the look-up, once when recording.
      expect(calls(p.instructions, Helper.get_current_task)).toBe(2);
      expect(sections(p.instructions).has('track: this stack now carries this skb')).toBe(true);
    });
  }

  it('with XDP head linking: consumes an XDP-linked skb->head before the address look-up, and stores skb->head of matched skbs', () => {
    const p = build('fentry', { ...track(true, false), xdpHeads: true });
    expect(maps(p)).toEqual(new Set([MAPS.events, MAPS.lost, TRACK_MAPS.skbs, TRACK_MAPS.xdpHeads]));
    const at = (c: string): number => p.instructions.findIndex((x) => x.comment?.startsWith(c));
    expect(at('track: an XDP tracer linked this skb->head')).toBeLessThan(at('track: is this skb address tracked'));
    expect(at('track: link skb->head for the XDP tracers')).toBeLessThan(at('track: remember the matched skb address'));
    expect(at('track: link skb->head for the XDP tracers')).toBeGreaterThan(at('filter: a pcap stand-in'));
    expect(calls(p.instructions, Helper.map_delete_elem)).toBe(1);
  });

  it('computes the netns before the look-up when tracking, so tracked skbs still show it', () => {
    const p = build('kprobe', track(true, false));
    const netnsAt = p.instructions.findIndex((x) => x.comment?.startsWith('netns inode'));
    const lookupAt = p.instructions.findIndex((x) => x.comment?.startsWith('track: is this skb address tracked'));
    expect(netnsAt).toBeLessThan(lookupAt);
  });

  it('a --filter-non-skb-funcs program takes its skb from the stack map and runs no filter', () => {
    const p = build('kprobe', track(false, true), 'stack');
    expect(maps(p)).toEqual(new Set([MAPS.events, MAPS.lost, TRACK_MAPS.stackidSkb]));
    expect(sections(p.instructions).has('filter: --filter-mark')).toBe(false);
    expect(sections(p.instructions).has('filter: a pcap stand-in')).toBe(false);
    expect(calls(p.instructions, Helper.map_update_elem)).toBe(0);
  });

  it('refuses a non-skb program without by-stackid tracking', () => {
    expect(() => build('kprobe', track(true, false), 'stack')).toThrow('needs by-stackid tracking');
  });
});

describe('unconfirmed tracking (a kernel where pwru sees frees only at tracepoints)', () => {
  const unconfirmed: TrackGen = { ...track(true, false), unconfirmed: { ttlNs: 100_000_000 } };
  const p = build('tracepoint', unconfirmed);
  const insns = p.instructions;
  const at = (comment: string): number => insns.findIndex((x) => x.comment?.startsWith(comment));

  it('expires an entry last seen longer ago than the TTL (looked up, timed, deleted)', () => {
    const lookup = at('track: is this skb address tracked and seen lately');
    const block = insns.slice(lookup, at('filter: --filter-mark'));
    expect(calls(block, Helper.ktime_get_ns)).toBe(1);
    expect(calls(block, Helper.map_delete_elem)).toBe(1);
    expect(block.some((x) => x.isJump && x.imm === 100_000_000)).toBe(true);
  });

  it('runs every filter on tracked skbs too, failing to a check of the track flag instead of out', () => {
    const rejects = insns
      .filter((x) => x.comment === 'filter: --filter-mark' || x.comment === 'filter: a pcap stand-in')
      .filter((x) => x.isJump);
    expect(rejects.length).toBeGreaterThan(0);
    for (const j of rejects) expect(j.reference).toMatch(/track_reject/);
    expect(at('track: filters passed, or failed for a tracked skb')).toBeGreaterThan(at('filter: a pcap stand-in'));
  });

  it('stamps the entry with the time of this sighting, and copies the flag into the event header', () => {
    const record = insns.slice(at('track: remember the matched skb address'));
    expect(calls(record.slice(0, 8), Helper.ktime_get_ns)).toBe(1);
    const flags = insns.slice(at('event: flags'));
    expect(flags[1]).toMatchObject({ dst: 8, offset: HEADER.flags });
  });

  it('leaves tracking with kprobes or fentry as it was: tracked skbs skip the filters', () => {
    const plain = build('tracepoint', track(true, false)).instructions;
    expect(plain.some((x) => x.comment?.startsWith('event: flags'))).toBe(false);
    expect(plain.some((x) => x.reference?.includes('track_reject'))).toBe(false);
  });
});

describe('map-maintenance programs', () => {
  it('forget: deletes the address (and, by stack, both stack maps), never emits', () => {
    const onlySkb = link(forgetProgram(track(true, false), kprobeCtx));
    expect(maps(onlySkb)).toEqual(new Set([TRACK_MAPS.skbs]));
    expect(calls(onlySkb.instructions, Helper.map_delete_elem)).toBe(1);
    const both = link(forgetProgram(track(true, true), { kind: 'btf' }));
    expect(maps(both)).toEqual(new Set([TRACK_MAPS.skbs, TRACK_MAPS.stackidSkb, TRACK_MAPS.skbStackid]));
    expect(calls(both.instructions, Helper.map_delete_elem)).toBe(3);
    expect(calls(both.instructions, Helper.ringbuf_reserve)).toBe(0);
  });

  it('fexit follower: reads the return value after the arguments', () => {
    const p = link(fexitFollowProgram(4));
    expect(p.instructions.some((x) => x.src === R6 && x.offset === 32)).toBe(true);
    expect(maps(p)).toEqual(new Set([TRACK_MAPS.skbs]));
  });

  it('kprobe+kretprobe follower: hands off through the pending map keyed by pid_tgid', () => {
    const spec = { fn: 'skb_clone', kind: 'returns', index: 0 } as const;
    const entry = link(followEntryProgram(spec, kprobeCtx));
    const ret = link(followReturnProgram(spec, kprobeCtx));
    for (const p of [entry, ret]) {
      expect(maps(p)).toEqual(new Set([TRACK_MAPS.skbs, TRACK_MAPS.pending]));
      expect(calls(p.instructions, Helper.get_current_pid_tgid)).toBe(1);
    }
    // The return half reads pt_regs->ax.
    expect(ret.instructions.some((x) => x.src === R6 && x.offset === 80)).toBe(true);
    expect(() => followReturnProgram(spec, { kind: 'btf' })).toThrow('one fexit program');
  });

  it('veth follower: reads *pskb (argument 3) on entry and again on return', () => {
    const spec = { fn: 'veth_convert_skb_to_xdp_buff', kind: 'pskb', index: 4 } as const;
    const entry = link(followEntryProgram(spec, kprobeCtx));
    expect(entry.instructions.some((x) => x.src === R6 && x.offset === kernel61.ptRegs!.args[2]!.offset)).toBe(true);
    expect(calls(entry.instructions, Helper.probe_read_kernel)).toBe(1);
    const ret = link(followReturnProgram(spec, { kind: 'btf' }));
    expect(calls(ret.instructions, Helper.probe_read_kernel)).toBe(1);
  });
});
