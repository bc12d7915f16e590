/**
 * Code generation for skb tracking (`--filter-track-skb`, `--filter-track-skb-by-stackid`,
 * `--filter-non-skb-funcs`): the pieces the main programs splice in (look-up before the filters,
 * record after them, the stack identity) and the small programs that maintain the tracking maps
 * (forget an skb when it is freed, follow clones, copies and veth XDP rebuilds).
 */
import {
  Add,
  call,
  Helper,
  type Instruction,
  Ja,
  JEq,
  JGT,
  JLT,
  JNE,
  LoadMapPtr,
  LoadMem,
  Mov,
  R0,
  R1,
  R10,
  R2,
  R3,
  R4,
  R6,
  R7,
  R9,
  StoreImm,
  Sub,
  StoreMem,
  type Register,
} from 'bpf-asm-ts';
import { Emitter } from './emitter.js';
import type { Field } from './layout.js';

/** Names of the tracking maps (resolved by the loader, like the events map). */
export const TRACK_MAPS = {
  /** skb address → 1: skbs that matched the filters (or descend from one). `--filter-track-skb`. */
  skbs: 'skb_addresses',
  /** stack id → skb address: the skb last seen on that kernel stack. By-stackid tracking. */
  stackidSkb: 'stackid_skb',
  /** skb address → stack id: the reverse index, to replace an skb's old stack. */
  skbStackid: 'skb_stackid',
  /** {pid_tgid, follower} → skb or `struct sk_buff **`: entry-to-return hand-off of followers. */
  pending: 'track_pending',
  /**
   * `skb->head` or an XDP buffer's `data_hard_start` → the skb or `xdp_buff` it came from: links
   * a tracked skb with the XDP buffer built over the same memory, and back (`--filter-trace-xdp`
   * with `--filter-track-skb`, upstream's `xdp_dhs_skb_heads`). The event programs use it when
   * {@link TrackGen.xdpHeads} is set; the XDP tracers look up and store `data_hard_start`.
   */
  xdpHeads: 'xdp_skb_heads',
} as const;

/** Where the stack identity comes from (see {@link emitStackId}). */
export interface StackLayout {
  /** Offset of `task_struct.stack` (the base of the task's kernel stack). */
  readonly taskStack: number;
  /** `THREAD_SIZE`: bytes of a task's kernel stack. */
  readonly threadSize: number;
}

/** What the generated programs track. */
export interface TrackGen {
  /** `--filter-track-skb`: follow matched skbs by address. */
  readonly skb: boolean;
  /** `--filter-track-skb-by-stackid`: attribute later probes on the same kernel stack. */
  readonly byStackid: boolean;
  readonly stack: StackLayout;
  /**
   * With `skb`: an skb whose `head` an XDP tracer stored in {@link TRACK_MAPS.xdpHeads} is tracked
   * (the entry is consumed), and a matched skb stores its `head` there for the XDP tracers.
   */
  readonly xdpHeads?: boolean;
  /**
   * With `skb`, on a kernel where pwru cannot see every free (neither kprobes nor fentry on
   * `kfree_skbmem`), so a tracked address may by now hold an unrelated skb: entries carry the
   * time of their last sighting and expire `ttlNs` after it; a tracked skb still runs the
   * filters, and one that fails them is shown with `trackFlag` set (the event's `trackedOnly`
   * flag) instead of silently.
   */
  readonly unconfirmed?: { readonly ttlNs: number };
}

/** The context shapes tracking code reads arguments and the stack pointer from. */
export type TrackCtx =
  | { readonly kind: 'kprobe'; readonly args: readonly Field[]; readonly sp: Field; readonly ret?: Field }
  | { readonly kind: 'btf' };

/** Reads argument `i` (0-based) of the traced function into `dst`; `r6` holds the context. */
function loadArg(e: Emitter, ctx: TrackCtx, dst: Register, i: number): void {
  if (ctx.kind === 'kprobe') e.emit(LoadMem(dst, R6, ctx.args[i]!.offset, 'u64'));
  else e.emit(LoadMem(dst, R6, i * 8, 'u64'));
}

/**
 * Computes the stack id into `dst` (r6 must hold the context; clobbers r0-r5 and 16 bytes at
 * `scratch`). Upstream walks saved frame pointers to the outermost frame, which needs a kernel
 * built with frame pointers (x86 distributions use ORC instead, where the walk reads garbage).
 * The same identity — "which kernel stack is this" — comes from the stack pointer without frame
 * pointers: the base of the current task's stack (`task_struct.stack`) when the stack pointer
 * lies inside it, else the CPU's interrupt stack, as `cpu + 1` (never a kernel address). The stack
 * pointer is `pt_regs->sp` for kprobes and the program's own frame pointer for fentry and tp_btf
 * programs, which run on the traced code's stack.
 */
export function emitStackId(e: Emitter, ctx: TrackCtx, stack: StackLayout, dst: Register, scratch: number): void {
  const irq = e.fresh('stackid_irq');
  const task = e.fresh('stackid_task');
  const done = e.fresh('stackid_done');
  const based = e.fresh('stackid_based');
  if (ctx.kind === 'kprobe') {
    e.emit(LoadMem(R1, R6, ctx.sp.offset, 'u64'), StoreMem(R10, scratch + 8, R1, 'u64'));
  } else {
    // r10 as a number: the verifier types it as a stack pointer, so launder it through memory.
    e.emit(StoreMem(R10, scratch + 8, R10, 'u64'));
    e.probeRead(scratch + 8, 8, R10, scratch + 8);
  }
  e.emit(call(Helper.get_current_task));
  e.probeRead(scratch, 8, R0, stack.taskStack);
  e.emit(JEq.imm(R0, 0, based));
  e.emit(StoreImm(R10, scratch, 0, 'u64'));
  e.label(based);
  e.loadStack(R1, scratch, 8);
  e.loadStack(R2, scratch + 8, 8);
  e.ifZero(R1, irq);
  e.emit(Sub.reg(R2, R1));
  e.emit(JLT.imm(R2, stack.threadSize, task));
  e.label(irq);
  e.emit(call(Helper.get_smp_processor_id), Add.imm(R0, 1), Mov.reg(dst, R0), Ja(done));
  e.label(task);
  e.emit(Mov.reg(dst, R1));
  e.label(done);
}

/** `r2 = r10 + off` (a stack pointer argument). */
function stackArg(e: Emitter, reg: Register, off: number): void {
  e.emit(Mov.reg(reg, R10), Add.imm(reg, off));
}

/** `r0 = map_lookup_elem(map, fp + keyOff)`. */
function lookup(e: Emitter, map: string, keyOff: number): void {
  e.emit(LoadMapPtr(R1, map));
  stackArg(e, R2, keyOff);
  e.emit(call(Helper.map_lookup_elem));
}

/** `map_update_elem(map, fp + keyOff, fp + valueOff, BPF_ANY)`. */
function update(e: Emitter, map: string, keyOff: number, valueOff: number): void {
  e.emit(LoadMapPtr(R1, map));
  stackArg(e, R2, keyOff);
  stackArg(e, R3, valueOff);
  e.emit(Mov.imm(R4, 0), call(Helper.map_update_elem));
}

/** `map_delete_elem(map, fp + keyOff)`. */
function remove(e: Emitter, map: string, keyOff: number): void {
  e.emit(LoadMapPtr(R1, map));
  stackArg(e, R2, keyOff);
  e.emit(call(Helper.map_delete_elem));
}

/**
 * Tracks the skb whose address is in `skb` (r6-r9): `skbs[skb] = 1`, or the time now when
 * `stamp` (unconfirmed tracking keeps the last sighting), through 16 bytes at `fp + off`.
 */
function trackAddress(e: Emitter, skb: Register, off: number, stamp = false): void {
  e.emit(StoreMem(R10, off, skb, 'u64'));
  if (stamp) e.emit(call(Helper.ktime_get_ns), StoreMem(R10, off + 8, R0, 'u64'));
  else e.emit(StoreImm(R10, off + 8, 1, 'u64'));
  update(e, TRACK_MAPS.skbs, off, off + 8);
}

/** Labels the main program gives the tracking code. */
export interface TrackLabels {
  /** Where an skb found by address continues: the stack-mapping update (no filters). */
  readonly bySkb: string;
  /** Where an skb found by stack continues: the event (no filters, no updates). */
  readonly accept: string;
  /** With {@link TrackGen.xdpHeads}: where an skb linked from XDP continues (its address is remembered). */
  readonly byXdp?: string;
  /** With {@link TrackGen.xdpHeads}: the stack offset holding the copied `skb->head`. */
  readonly headOff?: number;
  /**
   * With {@link TrackGen.unconfirmed}: a u32 stack slot, 1 while the skb's address is tracked
   * (and recent), and `refresh`, where a tracked skb that failed the filters re-stamps its entry.
   */
  readonly trackFlag?: number;
  readonly refresh?: string;
}

/** Emits `xdpHeads[*(u64 *)(fp + headOff)]` lookup-and-delete, jumping to `found` on a hit (the XDP tracers). */
export function emitXdpHeadTaken(e: Emitter, headOff: number, scratch: number, found: string): void {
  const no = e.fresh('track_no_head');
  e.loadStack(R1, headOff, 8);
  e.emit(StoreMem(R10, scratch, R1, 'u64'));
  lookup(e, TRACK_MAPS.xdpHeads, scratch);
  e.ifZero(R0, no);
  remove(e, TRACK_MAPS.xdpHeads, scratch);
  e.emit(Ja(found));
  e.label(no);
}

/** Emits `xdpHeads[*(u64 *)(fp + headOff)] = r7` (the XDP tracers store their xdp_buff). */
export function emitXdpHeadRecord(e: Emitter, headOff: number, scratch: number): void {
  e.loadStack(R1, headOff, 8);
  e.emit(StoreMem(R10, scratch, R1, 'u64'), StoreMem(R10, scratch + 8, R7, 'u64'));
  update(e, TRACK_MAPS.xdpHeads, scratch, scratch + 8);
}

/**
 * Before the filters (r7 = skb, r6 = context; clobbers r0-r5 and 16 bytes at `scratch`): an skb
 * whose address is tracked skips the filters; so does any skb on a kernel stack that carries a
 * tracked one (upstream's order: address first, then stack).
 */
export function emitTrackLookup(e: Emitter, t: TrackGen, ctx: TrackCtx, scratch: number, labels: TrackLabels): void {
  if (t.skb && t.xdpHeads) {
    if (labels.byXdp === undefined || labels.headOff === undefined)
      throw new RangeError('XDP head linking needs the byXdp label and the head offset');
    e.section('track: an XDP tracer linked this skb->head (--filter-trace-xdp)');
    const none = e.fresh('track_no_xdp');
    e.emit(LoadMem(R1, R10, labels.headOff, 'u64'), StoreMem(R10, scratch, R1, 'u64'));
    lookup(e, TRACK_MAPS.xdpHeads, scratch);
    e.ifZero(R0, none);
    remove(e, TRACK_MAPS.xdpHeads, scratch);
    e.emit(Ja(labels.byXdp));
    e.label(none);
  }
  if (t.skb && t.unconfirmed) {
    if (labels.trackFlag === undefined) throw new RangeError('unconfirmed tracking needs the track flag slot');
    e.section('track: is this skb address tracked and seen lately (--filter-track-skb; frees are not all seen)');
    const none = e.fresh('track_none');
    const expired = e.fresh('track_expired');
    e.emit(StoreImm(R10, labels.trackFlag, 0, 'u32'), StoreMem(R10, scratch, R7, 'u64'));
    lookup(e, TRACK_MAPS.skbs, scratch);
    e.ifZero(R0, none);
    e.emit(LoadMem(R9, R0, 0, 'u64'), call(Helper.ktime_get_ns), Sub.reg(R0, R9));
    e.emit(JGT.imm(R0, t.unconfirmed.ttlNs, expired));
    e.emit(StoreImm(R10, labels.trackFlag, 1, 'u32'), Ja(none));
    e.label(expired);
    remove(e, TRACK_MAPS.skbs, scratch);
    e.label(none);
  } else if (t.skb) {
    e.section('track: is this skb address tracked (--filter-track-skb)');
    e.emit(StoreMem(R10, scratch, R7, 'u64'));
    lookup(e, TRACK_MAPS.skbs, scratch);
    e.emit(JNE.imm(R0, 0, labels.bySkb));
  }
  if (t.byStackid) {
    e.section('track: does this kernel stack carry a tracked skb (--filter-track-skb-by-stackid)');
    emitStackId(e, ctx, t.stack, R1, scratch);
    e.emit(StoreMem(R10, scratch, R1, 'u64'));
    lookup(e, TRACK_MAPS.stackidSkb, scratch);
    e.emit(JNE.imm(R0, 0, labels.accept));
  }
}

/**
 * After the filters passed (r7 = skb): remember the address; then, at `labels.bySkb` (also
 * reached by address-tracked skbs), make this stack point at this skb, dropping the skb's previous
 * stack. Clobbers r0-r5, r9 and 16 bytes at `scratch`.
 */
export function emitTrackRecord(e: Emitter, t: TrackGen, ctx: TrackCtx, scratch: number, labels: TrackLabels): void {
  if (t.skb && t.xdpHeads) {
    e.section('track: link skb->head for the XDP tracers');
    e.emit(
      LoadMem(R1, R10, labels.headOff!, 'u64'),
      StoreMem(R10, scratch, R1, 'u64'),
      StoreMem(R10, scratch + 8, R7, 'u64'),
    );
    update(e, TRACK_MAPS.xdpHeads, scratch, scratch + 8);
  }
  if (labels.byXdp !== undefined) e.label(labels.byXdp);
  if (t.skb) {
    e.section('track: remember the matched skb address');
    if (labels.refresh !== undefined) e.label(labels.refresh);
    trackAddress(e, R7, scratch, t.unconfirmed !== undefined);
  }
  e.label(labels.bySkb);
  if (t.byStackid) {
    e.section('track: this stack now carries this skb');
    const set = e.fresh('track_set');
    emitStackId(e, ctx, t.stack, R9, scratch);
    e.emit(StoreMem(R10, scratch, R7, 'u64'));
    lookup(e, TRACK_MAPS.skbStackid, scratch);
    e.ifZero(R0, set);
    e.emit(LoadMem(R1, R0, 0, 'u64'), JEq.reg(R1, R9, set), StoreMem(R10, scratch + 8, R1, 'u64'));
    remove(e, TRACK_MAPS.stackidSkb, scratch + 8);
    e.label(set);
    e.emit(StoreMem(R10, scratch, R7, 'u64'), StoreMem(R10, scratch + 8, R9, 'u64'));
    update(e, TRACK_MAPS.stackidSkb, scratch + 8, scratch);
    update(e, TRACK_MAPS.skbStackid, scratch, scratch + 8);
  }
}

/**
 * The prologue of a `--filter-non-skb-funcs` program: r7 = the skb this kernel stack carries, or
 * jump to `out` when it carries none.
 */
export function emitStackSkb(e: Emitter, t: TrackGen, ctx: TrackCtx, scratch: number, out: string): void {
  e.section('track: the skb this kernel stack carries (--filter-non-skb-funcs)');
  emitStackId(e, ctx, t.stack, R1, scratch);
  e.emit(StoreMem(R10, scratch, R1, 'u64'));
  lookup(e, TRACK_MAPS.stackidSkb, scratch);
  e.ifZero(R0, out);
  e.emit(LoadMem(R7, R0, 0, 'u64'));
}

/** Scratch space of the tracker programs: 16 bytes of key/value, 8 more for a pending key. */
const SCRATCH = -32;

/**
 * Forgets a freed skb (attached to `kfree_skbmem`, or the `kfree_skb`/`consume_skb` tracepoints
 * where the kernel has neither kprobes nor fentry): its address, and — as upstream — whatever the
 * current kernel stack carried. `skbArg` is the 0-based argument holding the skb.
 */
export function forgetProgram(t: TrackGen, ctx: TrackCtx, skbArg = 0): Instruction[] {
  const e = new Emitter('forget');
  e.section('forget a freed skb');
  e.emit(Mov.reg(R6, R1));
  loadArg(e, ctx, R7, skbArg);
  if (t.skb) {
    e.emit(StoreMem(R10, SCRATCH, R7, 'u64'));
    remove(e, TRACK_MAPS.skbs, SCRATCH);
  }
  if (t.byStackid) {
    emitStackId(e, ctx, t.stack, R9, SCRATCH);
    e.emit(StoreMem(R10, SCRATCH, R9, 'u64'));
    remove(e, TRACK_MAPS.stackidSkb, SCRATCH);
    e.emit(StoreMem(R10, SCRATCH, R7, 'u64'));
    remove(e, TRACK_MAPS.skbStackid, SCRATCH);
  }
  e.ret(0);
  return e.insns;
}

/**
 * Forgets the skb at the `tcp_probe` tracepoint when it carries no sequence space (a pure ACK:
 * `TCP_SKB_CB(skb)->seq == end_seq`): `tcp_rcv_established` frees those with `__kfree_skb`, which
 * no tracepoint sees. `cbSeq` is the offset of `skb->cb` plus `tcp_skb_cb.seq` (`end_seq` follows).
 */
export function forgetPureAckProgram(t: TrackGen, skbArg: number, cbSeq: number): Instruction[] {
  const e = new Emitter('forget');
  const out = 'out';
  e.section('forget an skb tcp_rcv_established frees unseen (a pure ACK)');
  e.emit(Mov.reg(R6, R1));
  loadArg(e, { kind: 'btf' }, R7, skbArg);
  e.ifZero(R7, out);
  e.probeRead(SCRATCH, 8, R7, cbSeq);
  e.emit(JNE.imm(R0, 0, out));
  e.loadStack(R1, SCRATCH, 4);
  e.loadStack(R2, SCRATCH + 4, 4);
  e.emit(JNE.reg(R1, R2, out));
  if (t.skb) {
    e.emit(StoreMem(R10, SCRATCH, R7, 'u64'));
    remove(e, TRACK_MAPS.skbs, SCRATCH);
  }
  e.label(out);
  e.ret(0);
  return e.insns;
}

/** How a follower finds the new skb of a tracked one. */
export type FollowKind =
  /** `struct sk_buff *f(struct sk_buff *old, ...)`: skb_clone, skb_copy and friends. */
  | 'returns'
  /** `f(..., struct sk_buff **pskb)` (argument 3) rebuilding `*pskb`: veth_convert_skb_to_xdp_buff. */
  | 'pskb';

/** A kernel function whose result continues a tracked skb. */
export interface FollowSpec {
  readonly fn: string;
  readonly kind: FollowKind;
  /** Distinguishes the followers' pending entries of one thread. */
  readonly index: number;
}

/**
 * fexit on `f(old, ...)` returning the new skb (one program, no hand-off): track the new skb when
 * the old one is tracked. `argCount` places the return value in the context.
 */
export function fexitFollowProgram(argCount: number): Instruction[] {
  const e = new Emitter('follow');
  const out = 'out';
  e.section('fexit: a tracked skb was cloned or copied');
  e.emit(Mov.reg(R6, R1), LoadMem(R7, R6, 0, 'u64'), LoadMem(R9, R6, argCount * 8, 'u64'));
  e.ifZero(R9, out);
  e.emit(StoreMem(R10, SCRATCH, R7, 'u64'));
  lookup(e, TRACK_MAPS.skbs, SCRATCH);
  e.ifZero(R0, out);
  trackAddress(e, R9, SCRATCH);
  e.label(out);
  e.ret(0);
  return e.insns;
}

/** Writes the pending key `{pid_tgid, follower index}` (16 bytes) at `off`. */
function pendingKey(e: Emitter, index: number, off: number): void {
  e.emit(call(Helper.get_current_pid_tgid), StoreMem(R10, off, R0, 'u64'), StoreImm(R10, off + 8, index, 'u64'));
}

/**
 * The entry half of a kprobe+kretprobe (or fentry+fexit) follower: when the old skb is tracked,
 * hand the return half what it needs (the old skb, or `pskb`) under `{pid_tgid, index}`.
 */
export function followEntryProgram(f: FollowSpec, ctx: TrackCtx): Instruction[] {
  const e = new Emitter('follow');
  const out = 'out';
  e.section(`follow ${f.fn}: entry`);
  e.emit(Mov.reg(R6, R1));
  if (f.kind === 'returns') {
    loadArg(e, ctx, R9, 0);
    e.emit(Mov.reg(R7, R9));
  } else {
    loadArg(e, ctx, R9, 2); // struct sk_buff **pskb
    e.ifZero(R9, out);
    e.probeRead(SCRATCH, 8, R9);
    e.emit(JNE.imm(R0, 0, out));
    e.loadStack(R7, SCRATCH, 8);
  }
  e.ifZero(R7, out);
  e.emit(StoreMem(R10, SCRATCH, R7, 'u64'));
  lookup(e, TRACK_MAPS.skbs, SCRATCH);
  e.ifZero(R0, out);
  pendingKey(e, f.index, SCRATCH);
  e.emit(StoreMem(R10, SCRATCH + 16, R9, 'u64'));
  update(e, TRACK_MAPS.pending, SCRATCH, SCRATCH + 16);
  e.label(out);
  e.ret(0);
  return e.insns;
}

/**
 * The return half: take the hand-off, find the new skb (the return value, or `*pskb` after the
 * rebuild) and track it.
 */
export function followReturnProgram(f: FollowSpec, ctx: TrackCtx): Instruction[] {
  const e = new Emitter('follow');
  const out = 'out';
  e.section(`follow ${f.fn}: return`);
  e.emit(Mov.reg(R6, R1));
  pendingKey(e, f.index, SCRATCH);
  lookup(e, TRACK_MAPS.pending, SCRATCH);
  e.ifZero(R0, out);
  e.emit(LoadMem(R9, R0, 0, 'u64'));
  remove(e, TRACK_MAPS.pending, SCRATCH);
  if (f.kind === 'returns') {
    if (ctx.kind !== 'kprobe' || !ctx.ret)
      throw new RangeError('a returning follower without pt_regs is one fexit program (fexitFollowProgram)');
    e.emit(LoadMem(R7, R6, ctx.ret.offset, 'u64'));
  } else {
    e.probeRead(SCRATCH, 8, R9);
    e.emit(JNE.imm(R0, 0, out));
    e.loadStack(R7, SCRATCH, 8);
  }
  e.ifZero(R7, out);
  trackAddress(e, R7, SCRATCH);
  e.label(out);
  e.ret(0);
  return e.insns;
}
