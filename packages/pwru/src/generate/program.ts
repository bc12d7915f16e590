import {
  Add,
  And,
  call,
  Helper,
  type Instruction,
  Ja,
  JEq,
  JGT,
  JNE,
  LoadMapPtr,
  LoadMem,
  LSh,
  Mov,
  R0,
  R1,
  R10,
  R2,
  R3,
  R4,
  R6,
  R7,
  R8,
  R9,
  RSh,
  StoreImm,
  StoreMem,
  type Register,
} from 'bpf-asm-ts';
import { EventKind, HEADER, META, TUPLE, type EventLayout } from '../event.js';
import { Emitter } from './emitter.js';
import { emitCurrentTask, emitReserve } from './reserve.js';
import type { Field, KernelLayout } from './layout.js';
import { emitSkbMetadata, type SkbMetadata } from './skb-metadata.js';
import { emitSkbDumps, type SkbDumpPlan } from './skb-dump.js';
import { emitSkbPacket, type SkbPacketPlan } from './skb-packet.js';
import { emitRecordEntry, entryFrame, RETURN_MAP, RETURN_SCRATCH_MAP } from './return.js';
import { type BpfMapFields, type BpfMapOp, emitBpfMapEntry } from './bpfmap.js';
import { emitStackSkb, emitTrackLookup, emitTrackRecord, type TrackCtx, type TrackGen } from './tracking-code.js';
import { emitCt } from '../ct/emit.js';
import { emitWireData, emitWireIpv4, emitWireIpv6, emitWireL4, emitWireTcp } from '../wire/emit.js';
import type { CtFields } from '../ct/fields.js';
import type { NetfilterFields, NfFunc } from '../netfilter/fields.js';
import { emitNetfilterEntry } from '../netfilter/emit.js';

/**
 * `ProgramShape.skbArg` of a kprobe-multi program attached with the skb's 1-based position as
 * each function's cookie: one link for the whole function set instead of one per position (each
 * link is a separate ftrace update in the kernel, and one more fprobe to unregister at exit).
 */
export const SKB_ARG_FROM_COOKIE = -1;

/**
 * `ProgramShape.site` of a raw tracepoint program shared by several tracepoints (6.10+ raw_tp
 * cookies): each attachment's cookie is its site index, so one load serves every tracepoint whose
 * skb (and drop reason) sit at the same argument.
 */
export const SITE_FROM_COOKIE = -1;

/** How a program gets at its arguments. */
export type ProbeKind = 'kprobe' | 'kprobe-multi' | 'tracepoint' | 'fentry';

/** Names of the maps the generated programs reference (resolved by the loader). */
export const MAPS = {
  events: 'events',
  lost: 'lost_events',
  stacks: 'stacks',
  /** `--output-return`: entry events awaiting their function's return. */
  returns: RETURN_MAP,
  /** `--output-return`: a per-CPU copy of the entry event on its way into `returns`. */
  returnScratch: RETURN_SCRATCH_MAP,
} as const;

/** The parameters of one generated program. */
export interface ProgramShape {
  readonly kind: ProbeKind;
  /**
   * 0-based index of the `struct sk_buff *` argument; {@link SKB_ARG_FROM_COOKIE} (kprobe-multi
   * only): one program for every position, each function's 1-based position in its BPF cookie.
   */
  readonly skbArg: number;
  /**
   * Site index written into every event (which tracepoint, or which kprobe position);
   * {@link SITE_FROM_COOKIE} (tracepoints only): the attachment's BPF cookie.
   */
  readonly site: number;
  /** Tracepoints: 0-based argument holding an `enum skb_drop_reason`, copied into `p2`. */
  readonly reasonArg?: number;
  /** fentry: how many arguments the function has (arguments 2 and 3 are read only if present). */
  readonly argCount?: number;
  /**
   * fentry: per argument (0-based), whether a context load of it passes the verifier (see
   * `fentry-args.ts`); an argument not known to be readable is read with `bpf_get_func_arg` when
   * the kernel has it, else left 0.
   */
  readonly ctxReadable?: readonly boolean[];
  /** The event kind to record, when not the probe kind's own (fentry on a tc program: `Tc`). */
  readonly eventKind?: EventKind;
  /**
   * Where the skb comes from: argument `skbArg` (default), or — for `--filter-non-skb-funcs` —
   * the skb the current kernel stack carries (no filters: it is tracked already).
   */
  readonly source?: 'arg' | 'stack';
  /** `--output-bpfmap`: a bpf map function (first argument `struct bpf_map *`), and what it does. */
  readonly bpfmap?: BpfMapOp;
  /** `--output-netfilter`: a table walker's entry (its skb may be `pkt->skb`); the event is parked for its kretprobe. */
  readonly netfilter?: NfFunc;
}

/** Filter values baked into the program. */
export interface ProgramFilters {
  /** `(skb->mark & mask) == mark`; mask 0 disables. */
  readonly mark: number;
  readonly mask: number;
  /** netns inode to match (0 = any). */
  readonly netns: number;
  /** ifindex to match (0 = any). */
  readonly ifindex: number;
  /**
   * Extra filter fragments run after the cheap ones, in order (pcap filter, skb expression).
   * Each receives the frame described by {@link FRAME} and must jump to `reject` to drop the
   * packet or fall through to accept it.
   */
  readonly fragments?: ReadonlyArray<(e: Emitter, reject: string) => void>;
}

/** Stack frame of the generated programs (offsets from r10). */
export interface Frame {
  /** Where the copied part of `struct sk_buff` starts on the stack (one bulk read). */
  readonly skbCopy: number;
  /** Bytes of sk_buff copied, and the sk_buff offset the copy starts at. */
  readonly copyLen: number;
  readonly copyStart: number;
  /** Stack offset of sk_buff offset 0: a field at offset `o` is at `skbBase + o`. */
  readonly skbBase: number;
  /** 16 bytes of scratch for pointer chasing. */
  readonly scratch: number;
  /** The netns inode computed by the netns filter/meta (u32; the u32 after it is the unconfirmed-tracking flag). */
  readonly netns: number;
  /** 40 bytes of L3 header for the tuple. */
  readonly pkt: number;
  /** Bytes of stack the frame uses. */
  readonly size: number;
}

/**
 * The frame for a kernel: only the span of sk_buff between the first and the last field pwru
 * reads is copied (184 bytes on 6.18), leaving stack for a called pcap filter.
 */
export function frameFor(k: KernelLayout): Frame {
  const fields = Object.values(k.skb);
  const copyStart = Math.min(...fields.map((f) => f.offset)) & ~7;
  const copyEnd = Math.max(...fields.map((f) => f.offset + f.size));
  const copyLen = (copyEnd - copyStart + 7) & ~7;
  const skbCopy = -copyLen;
  const scratch = skbCopy - 16;
  const netns = scratch - 8;
  const pkt = netns - 40;
  return { skbCopy, copyLen, copyStart, skbBase: skbCopy - copyStart, scratch, netns, pkt, size: -pkt };
}

/** The largest sk_buff span the frame may copy, leaving room for a pcap filter. */
export const MAX_SKB_COPY = 256;

const BPF_F_FAST_STACK_CMP = 1 << 9;
const RTAX_MTU = 2;

/** Everything needed to generate one program. */
export interface GenerateOptions {
  readonly layout: EventLayout;
  readonly kernel: KernelLayout;
  readonly shape: ProgramShape;
  readonly filters: ProgramFilters;
  /** Whether the kernel has `bpf_get_func_ip` for this program type. */
  readonly haveFuncIp: boolean;
  /** Whether the kernel has `bpf_get_func_arg` (fentry: reads arguments of any type; 5.17+). */
  readonly haveFuncArg?: boolean;
  /** `--output-skb-metadata` expressions (as many as `layout.sections.metadata`). */
  readonly metadata?: readonly SkbMetadata[];
  /** `--output-skb` / `--output-skb-shared-info` dumps, into the `skb_dumps` ring. */
  readonly dumps?: SkbDumpPlan;
  /** `--output-pcapng`: copy the packet bytes into the `skb_packets` ring. */
  readonly packets?: SkbPacketPlan;
  /** `--output-return`: store each emitted event for the return program (not for tracepoints). */
  readonly recordReturn?: boolean;
  /** skb tracking: look-up before the filters, record after them (see `plan/skb-tracking.ts`). */
  readonly track?: TrackGen;
  /** `--output-bpfmap`: the `struct bpf_map` offsets (used when the shape is a bpf map function). */
  readonly bpfmap?: BpfMapFields;
  /** `--output-ct`: where the skb's conntrack entry is read (`layout.ct` must be set). */
  readonly ct?: CtFields;
  /** `--output-netfilter`: hook state and table offsets (used when the shape is a walker's). */
  readonly netfilter?: NetfilterFields;
}

/** Builds the program text for one probe shape: filters, then one ring-buffer event. */
export function generateProgram(o: GenerateOptions): Instruction[] {
  const { kernel: k, layout, shape, filters } = o;
  const f = frameFor(k);
  if (f.copyLen > MAX_SKB_COPY)
    throw new RangeError(`the sk_buff fields pwru reads span ${f.copyLen} bytes; at most ${MAX_SKB_COPY} fit`);
  const e = new Emitter('pwru');
  const out = 'out';
  const isKprobe = shape.kind === 'kprobe' || shape.kind === 'kprobe-multi';
  const regs = k.ptRegs;
  if (isKprobe && !regs) throw new RangeError('kprobe programs need struct pt_regs offsets');

  const skbField = (dst: Register, fld: Field): void => {
    e.loadStack(dst, f.skbBase + fld.offset, fld.size);
  };

  const track = o.track && (o.track.skb || o.track.byStackid) ? o.track : undefined;
  const fromStack = shape.source === 'stack';
  if (fromStack && !track?.byStackid) throw new RangeError('a non-skb function program needs by-stackid tracking');
  const trackCtx: TrackCtx = isKprobe ? { kind: 'kprobe', args: regs!.args, sp: regs!.sp } : { kind: 'btf' };
  // Unconfirmed tracking (frees not all seen): tracked skbs run the filters too, and one that
  // fails them is shown flagged; the flag lives in the upper half of the netns slot.
  const unconfirmed = track?.skb === true && track.unconfirmed !== undefined && !fromStack;
  const trackLabels = {
    bySkb: e.fresh('track_by_skb'),
    accept: e.fresh('track_accept'),
    ...(track?.xdpHeads ? { byXdp: e.fresh('track_by_xdp'), headOff: f.skbBase + k.skb.head.offset } : {}),
    ...(unconfirmed ? { trackFlag: f.netns + 4, refresh: e.fresh('track_refresh') } : {}),
  };
  const reject = unconfirmed ? e.fresh('track_reject') : out;

  e.section('prologue: skb argument, one bulk read of struct sk_buff');
  e.emit(Mov.reg(R6, R1));
  if (fromStack) emitStackSkb(e, track!, trackCtx, f.scratch, out);
  else if (isKprobe && shape.skbArg === SKB_ARG_FROM_COOKIE) emitSkbFromCookie(e, regs!.args, out);
  else if (isKprobe) e.emit(LoadMem(R7, R6, regs!.args[shape.skbArg]!.offset, 'u64'));
  else e.emit(LoadMem(R7, R6, shape.skbArg * 8, 'u64'));
  e.ifZero(R7, out);
  const nfSkb = shape.netfilter?.skb.member;
  if (nfSkb !== undefined) {
    e.readKernel(R7, R7, nfSkb, 8, f.scratch); // nft_do_chain: pkt->skb
    e.ifZero(R7, out);
  }
  e.probeRead(f.skbCopy, f.copyLen, R7, f.copyStart);
  e.emit(JNE.imm(R0, 0, out));

  // With tracking, tracked skbs skip the filters, so the meta's netns is computed first.
  const netnsFirst = track !== undefined && layout.meta >= 0;
  if (netnsFirst) emitNetnsInode(e, k, f);
  if (fromStack) {
    e.emit(Ja(trackLabels.accept)); // tracked already: no filters
  } else {
    if (track) emitTrackLookup(e, track, trackCtx, f.scratch, trackLabels);

    if (filters.mask !== 0) {
      e.section('filter: --filter-mark');
      skbField(R1, k.skb.mark);
      if (filters.mask !== 0xffffffff) e.emit(And.imm32(R1, filters.mask | 0));
      e.emit(JNE.imm32(R1, filters.mark | 0, reject));
    }

    const needNetns = filters.netns !== 0 || layout.meta >= 0;
    if (needNetns) {
      if (!netnsFirst) emitNetnsInode(e, k, f);
      if (filters.netns !== 0) {
        e.section('filter: --filter-netns');
        e.loadStack(R1, f.netns, 4);
        e.emit(JNE.imm32(R1, filters.netns | 0, reject));
      }
    }

    if (filters.ifindex !== 0) {
      e.section('filter: --filter-ifname');
      skbField(R1, k.skb.dev);
      e.ifZero(R1, reject);
      e.readKernel(R1, R1, k.netDevice.ifindex.offset, 4, f.scratch);
      e.emit(JNE.imm32(R1, filters.ifindex | 0, reject));
    }

    for (const fragment of filters.fragments ?? []) fragment(e, reject);

    // Unconfirmed tracking, when some filter can fail: passed, the skb is shown on its own merit;
    // failed, only if its address is tracked (and then flagged).
    if (unconfirmed && e.insns.some((x) => x.reference === reject)) {
      e.section('track: filters passed, or failed for a tracked skb (unconfirmed tracking)');
      e.emit(StoreImm(R10, trackLabels.trackFlag!, 0, 'u32'), Ja(trackLabels.refresh!));
      e.label(reject);
      e.loadStack(R1, trackLabels.trackFlag!, 4);
      e.ifZero(R1, out);
    } else if (unconfirmed) {
      e.emit(StoreImm(R10, trackLabels.trackFlag!, 0, 'u32')); // no filter: every skb matches
    }
    if (track) emitTrackRecord(e, track, trackCtx, f.scratch, trackLabels);
  }
  e.label(trackLabels.accept);

  emitReserve(e, { eventsMap: MAPS.events, lostMap: MAPS.lost, size: layout.size, scratch: f.scratch, onFailure: out });
  e.section('event: zero the record');
  for (let off = 0; off < layout.size; off += 8) e.emit(StoreImm(R8, off, 0, 'u64'));

  e.section('event: header');
  e.emit(StoreMem(R8, HEADER.skb, R7, 'u64'));
  if (o.haveFuncIp && shape.kind !== 'tracepoint') {
    e.emit(Mov.reg(R1, R6), call(Helper.get_func_ip), StoreMem(R8, HEADER.addr, R0, 'u64'));
  } else if (isKprobe) {
    // No bpf_get_func_ip: the kprobe's ip points one byte past the int3 at the function start.
    e.emit(LoadMem(R1, R6, regs!.ip.offset, 'u64'), Add.imm(R1, -1), StoreMem(R8, HEADER.addr, R1, 'u64'));
  }
  e.emit(call(Helper.ktime_get_ns), StoreMem(R8, HEADER.ts, R0, 'u64'));
  if (isKprobe) {
    e.emit(LoadMem(R1, R6, regs!.args[1]!.offset, 'u64'), StoreMem(R8, HEADER.p2, R1, 'u64'));
    e.emit(LoadMem(R1, R6, regs!.args[2]!.offset, 'u64'), StoreMem(R8, HEADER.p3, R1, 'u64'));
  } else if (shape.kind === 'tracepoint') {
    if (shape.reasonArg !== undefined)
      e.emit(LoadMem(R1, R6, shape.reasonArg * 8, 'u64'), StoreMem(R8, HEADER.p2, R1, 'u64'));
  } else {
    const n = shape.argCount ?? 0;
    if (n > 1) emitFentryArg(e, 1, HEADER.p2, shape.ctxReadable?.[1] === true, o.haveFuncArg === true, f.scratch);
    if (n > 2) emitFentryArg(e, 2, HEADER.p3, shape.ctxReadable?.[2] === true, o.haveFuncArg === true, f.scratch);
  }
  emitCurrentTask(e);
  e.emit(call(Helper.get_smp_processor_id), StoreMem(R8, HEADER.cpu, R0, 'u32'));
  if (shape.site === SITE_FROM_COOKIE)
    e.emit(Mov.reg(R1, R6), call(Helper.get_attach_cookie), StoreMem(R8, HEADER.site, R0, 'u32'));
  else e.emit(StoreImm(R8, HEADER.site, shape.site, 'u32'));
  const kind =
    shape.eventKind ??
    (shape.kind === 'kprobe'
      ? EventKind.Kprobe
      : shape.kind === 'kprobe-multi'
        ? EventKind.KprobeMulti
        : shape.kind === 'tracepoint'
          ? EventKind.Tracepoint
          : EventKind.Fentry);
  e.emit(StoreImm(R8, HEADER.kind, kind, 'u32'));
  if (unconfirmed) {
    e.section('event: flags (shown only because its address is tracked)');
    e.loadStack(R1, trackLabels.trackFlag!, 4);
    e.emit(StoreMem(R8, HEADER.flags, R1, 'u32'));
  }

  if (layout.meta >= 0) emitMeta(e, k, f, layout.meta);
  if (layout.cb >= 0) {
    e.section('event: skb->cb (qdisc_skb_cb.data, as __sk_buff->cb)');
    for (let i = 0; i < 20; i += 4) {
      e.loadStack(R1, f.skbBase + k.skb.cb.offset + k.qdiscCbData + i, 4);
      e.emit(StoreMem(R8, layout.cb + i, R1, 'u32'));
    }
  }
  if (layout.tuple >= 0) emitTuple(e, k, f, layout.tuple, k.skb.networkHeader, 'tuple', layout.wire);
  if (layout.tunnel >= 0) emitTuple(e, k, f, layout.tunnel, k.skb.innerNetworkHeader, 'tunnel');
  if (layout.stack >= 0) {
    e.section('event: bpf_get_stackid');
    e.emit(Mov.reg(R1, R6), LoadMapPtr(R2, MAPS.stacks), Mov.imm(R3, BPF_F_FAST_STACK_CMP), call(Helper.get_stackid));
    e.emit(StoreMem(R8, layout.stack, R0, 'u64'));
  }
  if (layout.caller >= 0 && isKprobe) {
    e.section('event: caller (return address at the stack pointer)');
    e.emit(LoadMem(R3, R6, regs!.sp.offset, 'u64'));
    e.readKernel(R1, R3, 0, 8, f.scratch);
    e.emit(StoreMem(R8, layout.caller, R1, 'u64'));
  }

  if (layout.metadata >= 0) emitSkbMetadata(e, o.metadata ?? [], f, layout.metadata);
  if (o.ct && layout.ct >= 0) emitCt(e, o.ct, f.scratch, layout.ct);

  if (o.dumps) emitSkbDumps(e, o.dumps, k, f);
  if (o.packets) emitSkbPacket(e, o.packets, k, f);
  if (shape.netfilter && o.netfilter && layout.netfilter >= 0 && isKprobe) {
    return emitNetfilterEntry(e, shape.netfilter, o.netfilter, regs!, {
      base: layout.netfilter,
      scratch: f.scratch,
      keyAt: f.pkt,
      size: layout.size,
      out,
    });
  }
  if (o.recordReturn) emitRecordEntry(e, entryFrame(shape.kind, k, shape.skbArg), f.pkt, layout.size);

  if (shape.bpfmap && o.bpfmap && layout.bpfmap >= 0) {
    emitBpfMapEntry(
      e,
      shape.bpfmap,
      o.bpfmap,
      isKprobe ? { kind: 'regs', args: regs!.args } : { kind: 'ctx' },
      layout.bpfmap,
    );
    if (shape.bpfmap === 'lookup') {
      // The value exists at return: park the event for the return program, which submits it.
      emitRecordEntry(e, isKprobe ? { kind: 'sp', sp: regs!.sp } : { kind: 'arg', arg: 0 }, f.pkt, layout.size);
      e.section('event: discard (the return program submits the parked copy)');
      e.emit(Mov.reg(R1, R8), Mov.imm(R2, 0), call(Helper.ringbuf_discard));
      e.label(out);
      e.ret(0);
      return e.insns;
    }
  }

  e.section('event: submit');
  e.emit(Mov.reg(R1, R8), Mov.imm(R2, 0), call(Helper.ringbuf_submit));
  e.label(out);
  e.ret(0);
  return e.insns;
}

/**
 * Copies fentry argument `arg` into the event at `at`: a context load when the verifier accepts
 * one for the argument's type, else `bpf_get_func_arg(ctx, arg, &scratch)` when the kernel has
 * it, else nothing (the field stays 0). Clobbers r0-r3.
 */
function emitFentryArg(e: Emitter, arg: number, at: number, ctxOk: boolean, helper: boolean, scratch: number): void {
  if (ctxOk) {
    e.emit(LoadMem(R1, R6, arg * 8, 'u64'), StoreMem(R8, at, R1, 'u64'));
    return;
  }
  if (!helper) return;
  const skip = e.fresh('func_arg_none');
  e.emit(Mov.reg(R1, R6), Mov.imm(R2, arg), Mov.reg(R3, R10), Add.imm(R3, scratch), call(Helper.get_func_arg));
  e.emit(JNE.imm(R0, 0, skip));
  e.loadStack(R1, scratch, 8);
  e.emit(StoreMem(R8, at, R1, 'u64'));
  e.label(skip);
}

/** Computes the skb's netns inode into the frame's netns slot (0 when it has neither device nor socket). */
function emitNetnsInode(e: Emitter, k: KernelLayout, f: Frame): void {
  e.section('netns inode: skb->dev->nd_net.net->ns.inum, else skb->sk->__sk_common.skc_net.net->ns.inum');
  const trySk = e.fresh('netns_sk');
  const have = e.fresh('netns_have');
  const readInum = (netOff: number, missing: string): void => {
    e.readKernel(R3, R1, netOff, 8, f.scratch);
    e.ifZero(R3, missing);
    e.readKernel(R0, R3, k.netInum.offset, 4, f.scratch);
  };
  e.emit(StoreImm(R10, f.netns, 0, 'u32')); // the upper half is the track flag's
  e.loadStack(R1, f.skbBase + k.skb.dev.offset, k.skb.dev.size);
  e.ifZero(R1, trySk);
  readInum(k.netDevice.net.offset, trySk);
  e.emit(JNE.imm(R0, 0, have));
  e.label(trySk);
  e.loadStack(R1, f.skbBase + k.skb.sk.offset, k.skb.sk.size);
  const none = e.fresh('netns_none');
  e.ifZero(R1, none);
  readInum(k.sockNet.offset, none);
  e.label(have);
  e.emit(StoreMem(R10, f.netns, R0, 'u32'));
  e.label(none);
}

function emitMeta(e: Emitter, k: KernelLayout, f: Frame, base: number): void {
  e.section('event: meta (netns, mark, ifindex, len, mtu, protocol)');
  e.loadStack(R1, f.netns, 4);
  e.emit(StoreMem(R8, base + META.netns, R1, 'u32'));
  e.loadStack(R1, f.skbBase + k.skb.mark.offset, 4);
  e.emit(StoreMem(R8, base + META.mark, R1, 'u32'));
  e.loadStack(R1, f.skbBase + k.skb.len.offset, 4);
  e.emit(StoreMem(R8, base + META.len, R1, 'u32'));
  e.loadStack(R1, f.skbBase + k.skb.protocol.offset, 2);
  e.emit(StoreMem(R8, base + META.proto, R1, 'u16'));
  const noDev = e.fresh('meta_nodev');
  e.loadStack(R9, f.skbBase + k.skb.dev.offset, 8);
  e.ifZero(R9, noDev);
  e.readKernel(R1, R9, k.netDevice.ifindex.offset, 4, f.scratch);
  e.emit(StoreMem(R8, base + META.ifindex, R1, 'u32'));
  e.readKernel(R1, R9, k.netDevice.mtu.offset, 4, f.scratch);
  e.emit(StoreMem(R8, base + META.mtu, R1, 'u32'));
  e.label(noDev);
  // The route's MTU metric, else the route device's MTU (why lo shows 65536).
  const done = e.fresh('meta_mtu_done');
  e.loadStack(R9, f.skbBase + k.skb.refdst.offset, 8);
  e.emit(And.imm(R9, -2));
  e.ifZero(R9, done);
  e.readKernel(R3, R9, k.dst.metrics.offset, 8, f.scratch);
  e.emit(And.imm(R3, -4));
  const fromDev = e.fresh('meta_mtu_dev');
  e.ifZero(R3, fromDev);
  e.readKernel(R1, R3, 4 * (RTAX_MTU - 1), 4, f.scratch);
  e.ifZero(R1, fromDev);
  e.emit(StoreMem(R8, base + META.mtu, R1, 'u32'), Ja(done));
  e.label(fromDev);
  e.readKernel(R1, R9, k.dst.dev.offset, 8, f.scratch);
  e.ifZero(R1, done);
  e.readKernel(R1, R1, k.netDevice.mtu.offset, 4, f.scratch);
  e.emit(StoreMem(R8, base + META.mtu, R1, 'u32'));
  e.label(done);
}

const IPV6_EXT_HEADERS: ReadonlyArray<[number, 'hop' | 'frag' | 'ah']> = [
  [0, 'hop'],
  [43, 'hop'],
  [60, 'hop'],
  [44, 'frag'],
  [51, 'ah'],
];

/** Walks this many IPv6 extension headers at most (upstream reads only the first next-header). */
export const MAX_IPV6_EXT_HEADERS = 6;

function emitTuple(e: Emitter, k: KernelLayout, f: Frame, base: number, header: Field, what: string, wire = -1): void {
  e.section(`event: ${what} (L3/L4 at skb->head + ${what === 'tuple' ? 'network_header' : 'inner_network_header'})`);
  const done = e.fresh(`${what}_done`);
  // r9 = skb->head + header offset (+4 after an 802.1Q tag, as upstream).
  e.loadStack(R1, f.skbBase + header.offset, header.size);
  e.ifZero(R1, done);
  e.loadStack(R9, f.skbBase + k.skb.head.offset, 8);
  e.emit(Add.reg(R9, R1));
  const noVlan = e.fresh(`${what}_novlan`);
  e.loadStack(R1, f.skbBase + k.skb.protocol.offset, 2);
  e.emit(JNE.imm(R1, 0x0081, noVlan), Add.imm(R9, 4));
  e.label(noVlan);
  emitL3Tuple(e, f, base, what, done, wire);
  if (wire >= 0) {
    const skb = (fld: Field): number => f.skbBase + fld.offset;
    emitWireData(e, f, wire, base, { head: skb(k.skb.head), tail: skb(k.skb.tail), tailSize: k.skb.tail.size });
  }
}

/**
 * Parses the IPv4/IPv6 header at `r9` (kernel memory) into the tuple section at `base` of the
 * event in `r8`, walking IPv6 extension headers to the L4 protocol; jumps to `done` (which
 * this defines at its end) as soon as something is missing. Uses `f.pkt` and `f.scratch`. With a
 * `wire` section offset, also stores the wire ids the headers read hold (see `wire/emit.ts`).
 */
export function emitL3Tuple(
  e: Emitter,
  f: Pick<Frame, 'pkt' | 'scratch'>,
  base: number,
  what: string,
  done = e.fresh(`${what}_done`),
  wire = -1,
): void {
  const v4 = e.fresh(`${what}_v4`);
  const l4 = e.fresh(`${what}_l4`);
  e.probeRead(f.pkt, 40, R9);
  e.emit(JNE.imm(R0, 0, done));
  e.loadStack(R1, f.pkt, 1);
  e.emit(RSh.imm(R1, 4));
  e.emit(JEq.imm(R1, 4, v4));
  e.emit(JNE.imm(R1, 6, done));

  // IPv6: addresses, then walk extension headers to the real L4 protocol.
  e.emit(StoreImm(R8, base + TUPLE.l3, 0x86dd, 'u16'));
  if (wire >= 0) emitWireIpv6(e, f, wire);
  for (let i = 0; i < 32; i += 8) {
    e.loadStack(R1, f.pkt + 8 + i, 8);
    e.emit(StoreMem(R8, base + TUPLE.saddr + i, R1, 'u64'));
  }
  e.loadStack(R4, f.pkt + 6, 1); // r4 = next header
  e.emit(Mov.imm(R1, 40));
  e.emit(StoreMem(R10, f.scratch + 8, R1, 'u64')); // scratch+8 = L4 offset
  for (let i = 0; i < MAX_IPV6_EXT_HEADERS; i++) {
    const next = e.fresh(`${what}_ext`);
    const isExt = e.fresh(`${what}_isext`);
    for (const [nh] of IPV6_EXT_HEADERS) e.emit(JEq.imm(R4, nh, `${isExt}_${nh}`));
    e.emit(Ja(l4)); // not an extension header: r4 is the L4 protocol
    for (const [nh, form] of IPV6_EXT_HEADERS) {
      e.label(`${isExt}_${nh}`);
      // Read next-header and length bytes at r9 + offset.
      e.loadStack(R3, f.scratch + 8, 8);
      e.emit(Add.reg(R3, R9));
      e.probeRead(f.scratch, 2, R3);
      e.loadStack(R4, f.scratch, 1);
      e.loadStack(R1, f.scratch + 1, 1);
      if (form === 'frag') e.emit(Mov.imm(R1, 8));
      else if (form === 'ah') e.emit(Add.imm(R1, 2), LSh.imm(R1, 2));
      else e.emit(Add.imm(R1, 1), LSh.imm(R1, 3));
      e.loadStack(R2, f.scratch + 8, 8);
      e.emit(Add.reg(R2, R1));
      e.emit(JGT.imm(R2, 1024, done));
      e.emit(StoreMem(R10, f.scratch + 8, R2, 'u64'));
      e.emit(Ja(next));
    }
    e.label(next);
  }
  e.emit(Ja(l4));

  e.label(v4);
  e.emit(StoreImm(R8, base + TUPLE.l3, 0x0800, 'u16'));
  if (wire >= 0) emitWireIpv4(e, f, wire);
  e.loadStack(R1, f.pkt + 12, 4);
  e.emit(StoreMem(R8, base + TUPLE.saddr, R1, 'u32'));
  e.loadStack(R1, f.pkt + 16, 4);
  e.emit(StoreMem(R8, base + TUPLE.daddr, R1, 'u32'));
  e.loadStack(R4, f.pkt + 9, 1);
  e.loadStack(R1, f.pkt, 1);
  e.emit(And.imm(R1, 0xf), LSh.imm(R1, 2));
  e.emit(StoreMem(R10, f.scratch + 8, R1, 'u64'));

  e.label(l4);
  e.emit(StoreMem(R8, base + TUPLE.l4, R4, 'u8'));
  if (wire >= 0) emitWireL4(e, f, wire);
  const tcp = e.fresh(`${what}_tcp`);
  e.emit(JEq.imm(R4, 6, tcp));
  e.emit(JNE.imm(R4, 17, done));
  e.label(tcp);
  e.loadStack(R3, f.scratch + 8, 8);
  e.emit(Add.reg(R3, R9));
  e.probeRead(f.scratch, 14, R3);
  e.emit(JNE.imm(R0, 0, done));
  e.loadStack(R1, f.scratch, 4);
  e.emit(StoreMem(R8, base + TUPLE.sport, R1, 'u32')); // sport and dport, still in network order
  e.emit(LoadMem(R1, R8, base + TUPLE.l4, 'u8'));
  e.emit(JNE.imm(R1, 6, done));
  e.loadStack(R1, f.scratch + 13, 1);
  e.emit(StoreMem(R8, base + TUPLE.flags, R1, 'u8'));
  if (wire >= 0) emitWireTcp(e, f, wire);
  e.label(done);
  e.emit(Mov.imm(R0, 0));
}

/**
 * r7 = the skb argument whose 1-based position is this function's BPF cookie (r6 = ctx);
 * jumps to `out` for a cookie outside 1..args.length (never attached that way).
 */
function emitSkbFromCookie(e: Emitter, args: readonly Field[], out: string): void {
  if (args.length === 0) throw new RangeError('kprobe programs need struct pt_regs argument offsets');
  e.emit(Mov.reg(R1, R6), call(Helper.get_attach_cookie));
  const done = e.fresh('skb_from_cookie');
  args.forEach((arg, i) => {
    const next = e.fresh('skb_pos');
    e.emit(JNE.imm(R0, i + 1, next), LoadMem(R7, R6, arg.offset, 'u64'), Ja(done));
    e.label(next);
  });
  e.emit(Ja(out));
  e.label(done);
}
