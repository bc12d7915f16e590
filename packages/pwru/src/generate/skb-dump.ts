/**
 * `--output-skb` and `--output-skb-shared-info`: `bpf_snprintf_btf()` dumps of `struct sk_buff`
 * and of the `struct skb_shared_info` at `skb->head + skb->end`, as upstream prints them.
 *
 * Transport (our design, unlike upstream's hash maps read back with extra syscalls per event):
 * the dump is written into a per-CPU buffer of `--set-percpu-buf` bytes (the size really is the
 * dump size: upstream's stays 4092 whatever the flag says) and copied with `bpf_ringbuf_output`
 * into a SECOND ring buffer, `skb_dumps`, as a variable-size record holding only the bytes the
 * dump used. The events ring buffer and its fixed-size records are untouched, so runs without
 * dumps pay nothing. A dump record is keyed by its event's CPU and `bpf_ktime_get_ns()` value:
 * it is written after the event is reserved and before it is submitted, so by the time user
 * space reads the event its dumps are already committed in the other ring. A program that
 * interrupts another on the same CPU while it fills the buffer skips its dumps (they show as
 * lost) rather than corrupting the other's.
 */
import { type Btf, memberPath } from 'btf-parser';
import {
  Add,
  call,
  Helper,
  JLE,
  JNE,
  JSLT,
  LoadMapPtr,
  LoadMem,
  Mov,
  R0,
  R1,
  R10,
  R2,
  R3,
  R4,
  R5,
  R7,
  R8,
  R9,
  StoreImm,
  StoreMem,
} from 'bpf-asm-ts';
import { MissingKernelFeatureError, PwruError } from '../errors.js';
import { HEADER } from '../event.js';
import type { Emitter } from './emitter.js';
import type { KernelLayout } from './layout.js';
import type { Frame } from './program.js';

/** Names of the maps the dump code references. */
export const DUMP_MAPS = {
  /** BPF_MAP_TYPE_RINGBUF of dump records. */
  ring: 'skb_dumps',
  /** BPF_MAP_TYPE_PERCPU_ARRAY, one entry: a record header then the text. */
  buffer: 'skb_dump_buf',
} as const;

/** Byte offsets of a dump record's header; the text follows (not NUL-terminated). */
export const DUMP_HEADER = {
  /** The event's `bpf_ktime_get_ns()` (u64). */
  ts: 0,
  /** The event's CPU (u32). */
  cpu: 8,
  /** {@link DumpKind} (u32). */
  kind: 12,
  /** The length `bpf_snprintf_btf` wanted, before truncation (u32). */
  full: 16,
  /**
   * Non-zero while a program on this CPU is writing the buffer (u32): a program nested inside
   * it (a tracepoint in an interrupt) skips its dumps instead of overwriting them.
   */
  busy: 20,
  size: 24,
} as const;

/** What a dump record shows. */
export enum DumpKind {
  Skb = 1,
  SharedInfo = 2,
}

/** Per-CPU map values are limited to 32 KiB (`PCPU_MIN_UNIT_SIZE`); the header takes the rest. */
export const MAX_DUMP_BYTES = 32768 - DUMP_HEADER.size;
/** Smaller buffers could not hold even the first line of a dump. */
export const MIN_DUMP_BYTES = 64;

/** What the generated dump code needs. */
export interface SkbDumpPlan {
  /** BTF id of `struct sk_buff` when `--output-skb` is set. */
  readonly skbTypeId?: number;
  /** BTF id of `struct skb_shared_info` when `--output-skb-shared-info` is set. */
  readonly shinfoTypeId?: number;
  /** `skb->end`: an offset from `head` (4 bytes, 64-bit kernels) or a pointer (8 bytes). */
  readonly end: { readonly offset: number; readonly size: number };
  /** Text bytes per dump, NUL included (`--set-percpu-buf`). */
  readonly textBytes: number;
}

/** Whether the kernel's `enum bpf_func_id` has `BPF_FUNC_snprintf_btf` (Linux 5.10). */
export function haveSnprintfBtf(btf: Btf): boolean {
  const e = btf.findType('bpf_func_id', 'enum');
  return e !== undefined && e.kind === 'enum' && e.values.some((v) => v.name === 'BPF_FUNC_snprintf_btf');
}

/**
 * Plans the dumps for a run, or returns undefined when neither flag is set. Fails with one line
 * when the kernel lacks `bpf_snprintf_btf` or the buffer size is out of range.
 */
export function planSkbDumps(
  btf: Btf,
  o: { skb: boolean; sharedInfo: boolean; bufferBytes: number },
): SkbDumpPlan | undefined {
  if (!o.skb && !o.sharedInfo) return undefined;
  const flags = [o.skb ? '--output-skb' : '', o.sharedInfo ? '--output-skb-shared-info' : '']
    .filter(Boolean)
    .join(' and ');
  if (!haveSnprintfBtf(btf)) {
    throw new MissingKernelFeatureError(
      'the bpf_snprintf_btf() helper',
      `${flags} need it (Linux 5.10 or later); run without them`,
    );
  }
  if (!Number.isInteger(o.bufferBytes) || o.bufferBytes < MIN_DUMP_BYTES || o.bufferBytes > MAX_DUMP_BYTES) {
    throw new PwruError(
      `--set-percpu-buf must be between ${MIN_DUMP_BYTES} and ${MAX_DUMP_BYTES} bytes, not ${o.bufferBytes}`,
    );
  }
  const typeId = (name: string): number => {
    const t = btf.findType(name, 'struct');
    if (!t) throw new PwruError(`${flags}: the kernel BTF has no struct ${name}`);
    return t.id;
  };
  const endPath = memberPath(btf, btf.typeByName('sk_buff', 'struct'), 'end');
  const load = endPath.loads[0]!;
  return {
    ...(o.skb ? { skbTypeId: typeId('sk_buff') } : {}),
    ...(o.sharedInfo ? { shinfoTypeId: typeId('skb_shared_info') } : {}),
    end: { offset: load.offset, size: load.size },
    textBytes: o.bufferBytes,
  };
}

/** Size of the per-CPU buffer's one value: a record header and the text. */
export function dumpBufferValueSize(plan: SkbDumpPlan): number {
  return DUMP_HEADER.size + plan.textBytes;
}

/**
 * The dump ring's size: room for at least 64 full-size dumps, at least 4 MiB, a power of two
 * (as the kernel requires).
 */
export function dumpRingBytes(plan: SkbDumpPlan): number {
  const want = Math.max(4 << 20, 64 * (dumpBufferValueSize(plan) + 8));
  return 2 ** Math.ceil(Math.log2(want));
}

/**
 * Emits the dumps into the event program, after the event record (in r8) is filled and before
 * it is submitted. Uses r9 for the buffer; the frame's packet area holds the lookup key and the
 * `struct btf_ptr`. A failed dump (no buffer, helper error, full ring) is skipped: user space
 * reports it as lost.
 */
export function emitSkbDumps(e: Emitter, plan: SkbDumpPlan, k: KernelLayout, f: Frame): void {
  const done = e.fresh('dump_done');
  const key = f.pkt;
  const btfPtr = f.pkt + 8; // struct btf_ptr { void *ptr; u32 type_id; u32 flags; }
  e.section("dump: the per-CPU buffer, stamped with the event's ktime and CPU");
  e.emit(
    StoreImm(R10, key, 0, 'u32'),
    LoadMapPtr(R1, DUMP_MAPS.buffer),
    Mov.reg(R2, R10),
    Add.imm(R2, key),
    call(Helper.map_lookup_elem),
  );
  e.ifZero(R0, done);
  e.emit(Mov.reg(R9, R0));
  e.emit(LoadMem(R1, R9, DUMP_HEADER.busy, 'u32'), JNE.imm(R1, 0, done), StoreImm(R9, DUMP_HEADER.busy, 1, 'u32'));
  e.emit(LoadMem(R1, R8, HEADER.ts, 'u64'), StoreMem(R9, DUMP_HEADER.ts, R1, 'u64'));
  e.emit(LoadMem(R1, R8, HEADER.cpu, 'u32'), StoreMem(R9, DUMP_HEADER.cpu, R1, 'u32'));
  const dumps: Array<[DumpKind, number]> = [];
  if (plan.skbTypeId !== undefined) dumps.push([DumpKind.Skb, plan.skbTypeId]);
  if (plan.shinfoTypeId !== undefined) dumps.push([DumpKind.SharedInfo, plan.shinfoTypeId]);
  for (const [kind, typeId] of dumps) {
    const next = e.fresh('dump_next');
    if (kind === DumpKind.Skb) {
      e.section('dump: bpf_snprintf_btf(struct sk_buff *skb)');
      e.emit(StoreMem(R10, btfPtr, R7, 'u64'));
    } else {
      e.section('dump: bpf_snprintf_btf(struct skb_shared_info at skb->head + skb->end)');
      e.readKernel(R3, R7, plan.end.offset, plan.end.size, f.scratch);
      if (plan.end.size === 8) e.emit(Mov.reg(R1, R3));
      else {
        e.loadStack(R1, f.skbBase + k.skb.head.offset, 8);
        e.ifZero(R1, next);
        e.emit(Add.reg(R1, R3));
      }
      e.emit(StoreMem(R10, btfPtr, R1, 'u64'));
    }
    e.emit(StoreImm(R10, btfPtr + 8, typeId, 'u32'), StoreImm(R10, btfPtr + 12, 0, 'u32'));
    e.emit(StoreImm(R9, DUMP_HEADER.kind, kind, 'u32'));
    e.emit(
      Mov.reg(R1, R9),
      Add.imm(R1, DUMP_HEADER.size),
      Mov.imm(R2, plan.textBytes),
      Mov.reg(R3, R10),
      Add.imm(R3, btfPtr),
      Mov.imm(R4, 16),
      Mov.imm(R5, 0),
      call(Helper.snprintf_btf),
    );
    e.emit(JSLT.imm(R0, 0, next));
    e.emit(StoreMem(R9, DUMP_HEADER.full, R0, 'u32'));
    // The text is min(wanted, buffer - 1) bytes: the NUL is not sent.
    const fits = e.fresh('dump_fits');
    e.emit(JLE.imm(R0, plan.textBytes - 1, fits), Mov.imm(R0, plan.textBytes - 1));
    e.label(fits);
    e.emit(Mov.reg(R3, R0), Add.imm(R3, DUMP_HEADER.size));
    e.emit(LoadMapPtr(R1, DUMP_MAPS.ring), Mov.reg(R2, R9), Mov.imm(R4, 0), call(Helper.ringbuf_output));
    e.label(next);
  }
  e.emit(StoreImm(R9, DUMP_HEADER.busy, 0, 'u32'));
  e.label(done);
  e.emit(Mov.imm(R0, 0));
}
