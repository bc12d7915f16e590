/**
 * `--output-return`: the kernel side of return values.
 *
 * The entry program, once its filters passed and its event is built, also stores that event in
 * a hash map keyed by (pid_tgid, function address, frame). The return program (a kretprobe, a
 * kprobe-multi return probe or fexit) builds the same key, looks it up — so only calls whose
 * entry matched the filters produce a return event, and the skb is never read again (it may be
 * freed by then) — copies the stored event into a new ring-buffer record, marks it
 * {@link EventKind.Return}, adds `rax` and its own time and CPU, and deletes the key.
 *
 * The frame tells nested calls of one function in one thread apart:
 * - kprobe backends: the stack pointer at entry (pointing at the return address). At return the
 *   `ret` has popped that address, so the return probe's `sp` is 8 higher (x86-64 kretprobes
 *   and rethook-based kprobe-multi return probes report the stack pointer after the return).
 * - fentry/fexit: the skb argument, which fexit still sees. Recursion of one function on the
 *   same skb in one thread then shares a key: the inner return reports and removes it, the
 *   outer return finds nothing (and prints nothing).
 *
 * The map is an LRU hash of {@link RETURN_MAP_ENTRIES}: entries whose return never fires (a
 * kretprobe out of instances, a detach between entry and return) are evicted by newer ones
 * instead of filling it.
 */
import {
  Add,
  call,
  exit,
  Helper,
  type Instruction,
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
  R8,
  R9,
  StoreImm,
  StoreMem,
} from 'bpf-asm-ts';
import { EventKind, HEADER, type EventLayout } from '../event.js';
import { emitReserve } from './reserve.js';
import { emitBpfMapReturnValue } from './bpfmap.js';
import { Emitter } from './emitter.js';
import type { Field, KernelLayout } from './layout.js';

/** The map of entry events awaiting their function's return (resolved by name at load). */
export const RETURN_MAP = 'return_entries';

/** A per-CPU array of one event record: where the entry program copies its record for the map update. */
export const RETURN_SCRATCH_MAP = 'return_scratch';

/** Entries of {@link RETURN_MAP}: calls that may be in flight at once, across all CPUs. */
export const RETURN_MAP_ENTRIES = 8192;

/** Key of {@link RETURN_MAP}: pid_tgid, function address, frame (stack pointer or skb). */
export const RETURN_KEY_SIZE = 24;

/** The return-probe flavour of each entry backend. */
export type ReturnKind = 'kretprobe' | 'kprobe-multi-return' | 'fexit';

/** Whether a planned program's kind is a return probe. */
export function isReturnKind(kind: string): kind is ReturnKind {
  return kind === 'kretprobe' || kind === 'kprobe-multi-return' || kind === 'fexit';
}

/** How the entry and return programs of one backend name a call's frame. */
export type FrameSource =
  /** kprobe, kprobe-multi: `regs->sp` at entry, `regs->sp - 8` at return. */
  | { readonly kind: 'sp'; readonly sp: Field }
  /** fentry/fexit: the skb argument (`ctx[skbArg]`). */
  | { readonly kind: 'skb'; readonly skbArg: number }
  /** fentry/fexit on a function without an skb argument (a bpf map lookup): `ctx[arg]` at both ends. */
  | { readonly kind: 'arg'; readonly arg: number };

/** The frame source of an entry program of `kind` whose skb is argument `skbArg` (0-based). */
export function entryFrame(kind: string, k: KernelLayout, skbArg: number): FrameSource {
  if (kind === 'kprobe' || kind === 'kprobe-multi') {
    if (!k.ptRegs) throw new RangeError('kprobe programs need struct pt_regs offsets');
    return { kind: 'sp', sp: k.ptRegs.sp };
  }
  if (kind === 'fentry') return { kind: 'skb', skbArg };
  throw new RangeError(`${kind} programs have no return to report`);
}

/**
 * Emits, at the end of an entry program (r6 = ctx, r7 = skb, r8 = the built ring-buffer record,
 * not yet submitted), the store of the record under this call's key. `keyAt` is 32 bytes of
 * stack free at that point. Clobbers r0-r5 and r9.
 *
 * The record goes through a per-CPU scratch value ({@link RETURN_SCRATCH_MAP}) because Linux
 * 6.1's verifier does not take ring-buffer memory as a map value argument.
 */
export function emitRecordEntry(e: Emitter, frame: FrameSource, keyAt: number, size: number): void {
  e.section('--output-return: remember this entry under (pid_tgid, function, frame)');
  const skip = e.fresh('ret_skip');
  e.emit(call(Helper.get_current_pid_tgid), StoreMem(R10, keyAt, R0, 'u64'));
  e.emit(LoadMem(R1, R8, HEADER.addr, 'u64'), StoreMem(R10, keyAt + 8, R1, 'u64'));
  if (frame.kind === 'sp') e.emit(LoadMem(R1, R6, frame.sp.offset, 'u64'));
  else if (frame.kind === 'arg') e.emit(LoadMem(R1, R6, frame.arg * 8, 'u64'));
  else e.emit(Mov.reg(R1, R7));
  e.emit(StoreMem(R10, keyAt + 16, R1, 'u64'));
  e.emit(StoreImm(R10, keyAt + 24, 0, 'u32'));
  e.emit(
    LoadMapPtr(R1, RETURN_SCRATCH_MAP),
    Mov.reg(R2, R10),
    Add.imm(R2, keyAt + 24),
    call(Helper.map_lookup_elem),
    Mov.reg(R9, R0),
  );
  e.ifZero(R9, skip);
  for (let off = 0; off < size; off += 8) e.emit(LoadMem(R1, R8, off, 'u64'), StoreMem(R9, off, R1, 'u64'));
  e.emit(
    LoadMapPtr(R1, RETURN_MAP),
    Mov.reg(R2, R10),
    Add.imm(R2, keyAt),
    Mov.reg(R3, R9),
    Mov.imm(R4, 0),
    call(Helper.map_update_elem),
  );
  e.label(skip);
}

/** What {@link generateReturnProgram} needs. */
export interface ReturnProgramOptions {
  readonly kind: ReturnKind;
  readonly layout: EventLayout;
  readonly frame: FrameSource;
  /** Where the return value is: `pt_regs.ax` (kprobes), or `ctx[argCount]` (fexit). */
  readonly retval: { readonly kind: 'regs'; readonly ax: Field } | { readonly kind: 'ctx'; readonly argCount: number };
  /** The per-CPU lost-event counter, counted when the ring buffer is full (as the entry programs do). */
  readonly lostMap: string;
  /** The ring buffer. */
  readonly eventsMap: string;
  /**
   * `--output-bpfmap` lookups: the parked entry event is submitted as it was (same kind, time and
   * stack), with the value the returned pointer points at added to this bpfmap section.
   */
  readonly bpfmapLookup?: number;
}

/**
 * The return program: one for all functions (kretprobe, kprobe-multi return) or one per
 * function (fexit). Emits nothing unless the entry program stored this call.
 */
export function generateReturnProgram(o: ReturnProgramOptions): Instruction[] {
  const { layout } = o;
  if (layout.ret < 0 && o.bpfmapLookup === undefined)
    throw new RangeError('return programs need an event layout with the return-value section');
  const e = new Emitter('pwru_ret');
  const out = 'out';
  const key = -RETURN_KEY_SIZE;
  const scratch = key - 8;

  e.section('key: pid_tgid, function address, frame');
  e.emit(Mov.reg(R6, R1));
  e.emit(call(Helper.get_current_pid_tgid), StoreMem(R10, key, R0, 'u64'));
  e.emit(Mov.reg(R1, R6), call(Helper.get_func_ip), StoreMem(R10, key + 8, R0, 'u64'));
  if (o.frame.kind === 'sp') {
    // The return has popped the return address the entry's sp pointed at.
    e.emit(LoadMem(R1, R6, o.frame.sp.offset, 'u64'), Add.imm(R1, -8));
  } else {
    e.emit(LoadMem(R1, R6, (o.frame.kind === 'arg' ? o.frame.arg : o.frame.skbArg) * 8, 'u64'));
  }
  e.emit(StoreMem(R10, key + 16, R1, 'u64'));

  e.section('return value');
  if (o.retval.kind === 'regs') e.emit(LoadMem(R9, R6, o.retval.ax.offset, 'u64'));
  else e.emit(LoadMem(R9, R6, o.retval.argCount * 8, 'u64'));

  e.section('the entry event, if this call passed the filters');
  e.emit(LoadMapPtr(R1, RETURN_MAP), Mov.reg(R2, R10), Add.imm(R2, key), call(Helper.map_lookup_elem), Mov.reg(R7, R0));
  e.ifZero(R7, out);

  const forget = e.fresh('forget');
  emitReserve(e, { eventsMap: o.eventsMap, lostMap: o.lostMap, size: layout.size, scratch, onFailure: forget });
  e.section('event: the entry event, then what differs at return');
  for (let off = 0; off < layout.size; off += 8) e.emit(LoadMem(R1, R7, off, 'u64'), StoreMem(R8, off, R1, 'u64'));
  if (o.bpfmapLookup !== undefined) {
    emitBpfMapReturnValue(e, o.bpfmapLookup);
  } else {
    e.emit(call(Helper.ktime_get_ns), StoreMem(R8, HEADER.ts, R0, 'u64'));
    e.emit(call(Helper.get_smp_processor_id), StoreMem(R8, HEADER.cpu, R0, 'u32'));
    e.emit(StoreImm(R8, HEADER.kind, EventKind.Return, 'u32'));
    // The entry's stack id was printed (and removed) with the entry event.
    if (layout.stack >= 0) e.emit(StoreImm(R8, layout.stack, -1, 'u64'));
    e.emit(StoreMem(R8, layout.ret, R9, 'u64'));
  }
  e.emit(Mov.reg(R1, R8), Mov.imm(R2, 0), call(Helper.ringbuf_submit));

  e.label(forget);
  e.section('forget the entry');
  e.emit(LoadMapPtr(R1, RETURN_MAP), Mov.reg(R2, R10), Add.imm(R2, key), call(Helper.map_delete_elem));
  e.label(out);
  e.emit(Mov.imm(R0, 0), exit());
  return e.insns;
}
