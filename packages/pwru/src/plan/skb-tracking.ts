/**
 * Planning of skb tracking: which flags turn it on, how each kernel can keep the tracking maps
 * current (forget freed skbs, follow clones, copies and veth XDP rebuilds), and what it cannot do
 * there. Code generation lives in `generate/tracking-code.ts`, loading and attaching in
 * `kernel/attach-trackers.ts`.
 */
import type { Instruction } from 'bpf-asm-ts';
import { type Btf, funcSignature, memberPath } from 'btf-parser';
import type { Backend, KernelFeatures } from '../backend.js';
import type { SkbFunc } from '../discovery/functions.js';
import { discoverSkbTracepoints } from '../discovery/tracepoints.js';
import { MissingKernelFeatureError, PwruError } from '../errors.js';
import type { PwruOptions } from '../flags/spec.js';
import type { KernelLayout } from '../generate/layout.js';
import { fentrySignature, type FentrySignature } from '../generate/fentry-args.js';
import type { Logger } from '../log.js';
import {
  type FollowSpec,
  fexitFollowProgram,
  followEntryProgram,
  followReturnProgram,
  forgetProgram,
  forgetPureAckProgram,
  type StackLayout,
  type TrackCtx,
  type TrackGen,
} from '../generate/tracking-code.js';

/** Where a tracking program attaches. */
export type TrackerHook =
  | { readonly type: 'kprobe'; readonly fn: string; readonly retprobe: boolean }
  | { readonly type: 'fentry' | 'fexit'; readonly fn: string; readonly btfId: number }
  | { readonly type: 'tracepoint'; readonly name: string; readonly btfId: number };

/** One map-maintenance program (it emits no events). */
export interface TrackerProgram {
  /** Program name (at most 15 characters). */
  readonly name: string;
  readonly insns: Instruction[];
  readonly hook: TrackerHook;
  /**
   * When to attach relative to the event programs. Several kprobes on one function run newest
   * first, tp_btf programs on one tracepoint oldest first; a program that forgets an skb must run
   * after the event programs on the same function, so that the freeing function's own event
   * still shows.
   */
  readonly order: 'before' | 'after';
  /** A target the kernel lacks is skipped (clone followers, veth) rather than an error. */
  readonly optional: boolean;
}

/** Everything tracking adds to a run. */
export interface TrackPlan {
  /** What the event programs do (look-up before the filters, record after). */
  readonly gen: TrackGen;
  readonly trackers: readonly TrackerProgram[];
  /** What tracking cannot do on this kernel, for the log. */
  readonly limits: readonly string[];
}

/**
 * Where pwru cannot see every free (tracepoint-only kernels), how long after its last sighting a
 * tracked address is forgotten: skbs live for microseconds between stack layers, but the slab
 * hands a freed address to the next skb just as fast, so entries must not linger.
 */
export const UNCONFIRMED_TTL_NS = 100_000_000;

/** Functions returning a new skb made from their first argument: their result stays tracked. */
export const COPY_FUNCTIONS = ['skb_clone', 'skb_copy', '__pskb_copy_fclone', 'skb_copy_expand'] as const;

/** veth's XDP path may rebuild the skb behind its third argument (`struct sk_buff **`). */
export const VETH_REBUILD = 'veth_convert_skb_to_xdp_buff';

/** Whether any tracking flag is on (`--filter-non-skb-funcs` implies by-stackid tracking, as upstream says). */
export function trackingWanted(opts: PwruOptions): { skb: boolean; byStackid: boolean } | undefined {
  const skb = opts.filterTrackSkb;
  const byStackid = opts.filterTrackSkbByStackid || opts.filterNonSkbFuncs.length > 0;
  return skb || byStackid ? { skb, byStackid } : undefined;
}

function member(btf: Btf, struct: string, path: string): { offset: number; size: number } | undefined {
  const t = btf.findType(struct, 'struct');
  if (!t) return undefined;
  try {
    const p = memberPath(btf, t, path);
    return p.loads.length === 1 ? { offset: p.loads[0]!.offset, size: p.loads[0]!.size } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The kernel stack layout by-stackid tracking needs: `task_struct.stack` from BTF and
 * `THREAD_SIZE` (16 KiB on x86-64 and arm64, doubled under KASAN).
 */
export function stackLayout(btf: Btf, arch: string = process.arch): StackLayout {
  if (arch !== 'x64' && arch !== 'arm64') {
    throw new PwruError(
      `--filter-track-skb-by-stackid knows the kernel stack size only on x86-64 and arm64, not ${arch}`,
    );
  }
  const stack = member(btf, 'task_struct', 'stack');
  if (!stack)
    throw new PwruError(
      '--filter-track-skb-by-stackid needs task_struct.stack in the kernel BTF, which this kernel lacks',
    );
  const kasan = btf.findType('kasan_report', 'func') !== undefined;
  return { taskStack: stack.offset, threadSize: kasan ? 32 << 10 : 16 << 10 };
}

/** What {@link planTracking} needs. */
export interface TrackInput {
  readonly opts: PwruOptions;
  readonly backend: Backend;
  readonly features: KernelFeatures;
  readonly btf: Btf;
  readonly kernel: KernelLayout;
}

/**
 * Plans tracking for a run, or undefined when no tracking flag is on. Each job uses the best hook
 * the kernel has: kprobes, else fentry/fexit, else (forgetting only) the `kfree_skb` and
 * `consume_skb` tracepoints. Fails with one line when `--filter-non-skb-funcs` cannot attach.
 */
export function planTracking(i: TrackInput): TrackPlan | undefined {
  const want = trackingWanted(i.opts);
  if (!want) return undefined;
  const { btf, features, kernel } = i;
  if (i.opts.filterNonSkbFuncs.length > 0 && i.backend === 'tracepoint') {
    throw new MissingKernelFeatureError(
      '--filter-non-skb-funcs',
      features.kprobes || features.fentry
        ? 'it attaches to arbitrary kernel functions, which the tracepoint backend cannot; use --backend=kprobe or --backend=fentry'
        : 'it attaches kprobes or fentry programs to arbitrary kernel functions, and this kernel has neither (CONFIG_KPROBES off, BPF trampolines refused)',
    );
  }
  const regs = kernel.ptRegs;
  const ax = member(btf, 'pt_regs', 'ax');
  const kprobeCtx: TrackCtx | undefined =
    features.kprobes && regs ? { kind: 'kprobe', args: regs.args, sp: regs.sp, ...(ax ? { ret: ax } : {}) } : undefined;
  const btfCtx: TrackCtx = { kind: 'btf' };
  const funcId = (name: string): number | undefined => btf.findType(name, 'func')?.id;
  const trackers: TrackerProgram[] = [];
  const limits: string[] = [];
  const kfree = funcId('kfree_skbmem');
  // Every free goes through kfree_skbmem; without a kprobe or fexit there, frees are seen only at
  // tracepoints, and a tracked address may come to hold an unrelated skb.
  const seesEveryFree = (kprobeCtx !== undefined && i.backend !== 'fentry') || (features.fentry && kfree !== undefined);
  const gen: TrackGen = {
    ...want,
    stack: want.byStackid ? stackLayout(btf) : { taskStack: 0, threadSize: 0 },
    ...(want.skb && !seesEveryFree ? { unconfirmed: { ttlNs: UNCONFIRMED_TTL_NS } } : {}),
  };

  // Forget freed skbs, after the event programs on kfree_skbmem have seen them: kprobes on one
  // address run newest first, so the kprobe goes in before the event kprobes; with the fentry
  // backend an fexit runs after every fentry program whatever the attach order.
  if (kprobeCtx && i.backend !== 'fentry') {
    trackers.push({
      name: 'pwru_forget',
      insns: forgetProgram(gen, kprobeCtx),
      hook: { type: 'kprobe', fn: 'kfree_skbmem', retprobe: false },
      order: 'before',
      optional: true,
    });
  } else if (features.fentry && kfree !== undefined) {
    trackers.push({
      name: 'pwru_forget',
      insns: forgetProgram(gen, btfCtx),
      hook: { type: 'fexit', fn: 'kfree_skbmem', btfId: kfree },
      order: 'before',
      optional: false,
    });
  } else {
    const tps = discoverSkbTracepoints(btf, (n) => n === 'kfree_skb' || n === 'consume_skb');
    if (tps.length === 0)
      throw new MissingKernelFeatureError(
        'skb tracking',
        'pwru must see skbs freed (kprobe or fentry on kfree_skbmem, or the kfree_skb/consume_skb tracepoints), and this kernel offers none',
      );
    for (const tp of tps) {
      trackers.push({
        name: `pwru_forget_${tp.name === 'kfree_skb' ? 'kf' : 'cs'}`,
        insns: forgetProgram(gen, btfCtx, tp.skbArg),
        hook: { type: 'tracepoint', name: tp.name, btfId: tp.btfId },
        order: 'after',
        optional: false,
      });
    }
    // Ends of a path whose free no tracepoint sees: data copied to user space (TCP and UDP then
    // free the skb with __kfree_skb or __consume_stateless_skb) and TCP's pure ACKs.
    for (const tp of want.skb ? discoverSkbTracepoints(btf, (n) => n === 'skb_copy_datagram_iovec') : []) {
      trackers.push({
        name: 'pwru_forget_cp',
        insns: forgetProgram(gen, btfCtx, tp.skbArg),
        hook: { type: 'tracepoint', name: tp.name, btfId: tp.btfId },
        order: 'after',
        optional: true,
      });
    }
    const seq = member(btf, 'tcp_skb_cb', 'seq');
    const endSeq = member(btf, 'tcp_skb_cb', 'end_seq');
    if (want.skb && seq && endSeq?.offset === seq.offset + 4) {
      for (const tp of discoverSkbTracepoints(btf, (n) => n === 'tcp_probe')) {
        trackers.push({
          name: 'pwru_forget_ack',
          insns: forgetPureAckProgram(gen, tp.skbArg, kernel.skb.cb.offset + seq.offset),
          hook: { type: 'tracepoint', name: tp.name, btfId: tp.btfId },
          order: 'after',
          optional: true,
        });
      }
    }
    limits.push(
      'freed skbs are forgotten at the kfree_skb, consume_skb, skb_copy_datagram_iovec and tcp_probe (pure ACKs) tracepoints, as there are no kprobes or fentry for kfree_skbmem; ' +
        `other frees go unseen, so a tracked address is forgotten ${UNCONFIRMED_TTL_NS / 1e6} ms after it was last seen, and an event shown only because its address is tracked (it fails the filters) is marked "(tracked only)" ("tracked_only": true in JSON)`,
    );
  }

  // Follow clones, copies and veth rebuilds of address-tracked skbs.
  if (want.skb) {
    let index = 0;
    for (const fn of COPY_FUNCTIONS) {
      const id = funcId(fn);
      const spec: FollowSpec = { fn, kind: 'returns', index: index++ };
      if (features.fentry && id !== undefined) {
        const argCount = funcSignature(btf, id).params.length;
        trackers.push({
          name: `pwru_fx_${spec.index}`,
          insns: fexitFollowProgram(argCount),
          hook: { type: 'fexit', fn, btfId: id },
          order: 'before',
          optional: true,
        });
      } else if (kprobeCtx?.kind === 'kprobe' && kprobeCtx.ret) {
        trackers.push({
          name: `pwru_fe_${spec.index}`,
          insns: followEntryProgram(spec, kprobeCtx),
          hook: { type: 'kprobe', fn, retprobe: false },
          order: 'before',
          optional: true,
        });
        trackers.push({
          name: `pwru_fr_${spec.index}`,
          insns: followReturnProgram(spec, kprobeCtx),
          hook: { type: 'kprobe', fn, retprobe: true },
          order: 'before',
          optional: true,
        });
      }
    }
    if (!features.fentry && !kprobeCtx)
      limits.push('clones and copies of a tracked skb are not followed (that needs fexit or kretprobes)');
    const veth: FollowSpec = { fn: VETH_REBUILD, kind: 'pskb', index: index++ };
    const vethId = funcId(VETH_REBUILD);
    if (kprobeCtx) {
      trackers.push({
        name: 'pwru_veth_in',
        insns: followEntryProgram(veth, kprobeCtx),
        hook: { type: 'kprobe', fn: VETH_REBUILD, retprobe: false },
        order: 'before',
        optional: true,
      });
      trackers.push({
        name: 'pwru_veth_out',
        insns: followReturnProgram(veth, kprobeCtx),
        hook: { type: 'kprobe', fn: VETH_REBUILD, retprobe: true },
        order: 'before',
        optional: true,
      });
    } else if (features.fentry && vethId !== undefined) {
      trackers.push({
        name: 'pwru_veth_in',
        insns: followEntryProgram(veth, btfCtx),
        hook: { type: 'fentry', fn: VETH_REBUILD, btfId: vethId },
        order: 'before',
        optional: true,
      });
      trackers.push({
        name: 'pwru_veth_out',
        insns: followReturnProgram(veth, btfCtx),
        hook: { type: 'fexit', fn: VETH_REBUILD, btfId: vethId },
        order: 'before',
        optional: true,
      });
    } else if (!kprobeCtx && !features.fentry) {
      limits.push('skbs rebuilt by veth XDP are not followed (that needs kprobes or fentry)');
    }
  }
  return { gen, trackers, limits };
}

/**
 * The `--filter-non-skb-funcs` targets, as upstream: sorted and deduplicated, without functions
 * already traced for their skb argument and without `[bpf]` symbols. For the fentry backend each
 * needs a BTF signature (added to `signatures`); names without one are skipped with a warning.
 */
export function nonSkbFunctions(
  opts: PwruOptions,
  btf: Btf,
  backend: Backend,
  skbFunctions: readonly SkbFunc[],
  signatures: Map<string, FentrySignature> | undefined,
  log: Logger,
): SkbFunc[] | undefined {
  if (opts.filterNonSkbFuncs.length === 0) return undefined;
  const traced = new Set(skbFunctions.map((f) => f.name));
  const names = [...new Set(opts.filterNonSkbFuncs)]
    .sort()
    .filter((n) => n !== '' && !traced.has(n) && !n.endsWith('[bpf]'));
  const out: SkbFunc[] = [];
  for (const name of names) {
    if (backend === 'fentry') {
      const fn = btf.findType(name, 'func');
      if (!fn) {
        log.warn('Skipping a non-skb function the kernel BTF does not describe', { func: name });
        continue;
      }
      signatures?.set(name, fentrySignature(btf, fn.id));
    }
    out.push({ name, position: 1 });
  }
  return out;
}
