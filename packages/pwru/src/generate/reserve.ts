import {
  Add,
  call,
  Helper,
  Ja,
  JNE,
  LoadMapPtr,
  LoadMem,
  Mov,
  R0,
  R1,
  R10,
  R2,
  R3,
  R8,
  RSh,
  StoreImm,
  StoreMem,
} from 'bpf-asm-ts';
import { HEADER } from '../event.js';
import type { Emitter } from './emitter.js';

/** What {@link emitReserve} needs. */
export interface ReserveOptions {
  /** The ring buffer map's symbol. */
  readonly eventsMap: string;
  /** The per-CPU array (one u64 at key 0) that counts reserve failures. */
  readonly lostMap: string;
  /** Record size in bytes. */
  readonly size: number;
  /** A stack slot (4 bytes, r10-relative) for the counter's key. */
  readonly scratch: number;
  /** Where a failed reservation leaves, after it was counted. */
  readonly onFailure: string;
}

/**
 * Emits `r8 = bpf_ringbuf_reserve(events, size, 0)`; when the ring is full, adds one to the
 * per-CPU lost counter (so losses are reported, never silent) and jumps to `onFailure`. Code
 * emitted next runs with r8 pointing at the reserved record. Shared by every program that
 * writes events (skb, XDP and return programs).
 */
export function emitReserve(e: Emitter, o: ReserveOptions): void {
  e.section('event: reserve');
  e.emit(
    LoadMapPtr(R1, o.eventsMap),
    Mov.imm(R2, o.size),
    Mov.imm(R3, 0),
    call(Helper.ringbuf_reserve),
    Mov.reg(R8, R0),
  );
  const reserved = e.fresh('reserved');
  e.emit(JNE.imm(R8, 0, reserved));
  e.section('event: count a reserve failure in the per-CPU lost counter');
  e.emit(
    StoreImm(R10, o.scratch, 0, 'u32'),
    LoadMapPtr(R1, o.lostMap),
    Mov.reg(R2, R10),
    Add.imm(R2, o.scratch),
    call(Helper.map_lookup_elem),
  );
  e.ifZero(R0, o.onFailure);
  e.emit(LoadMem(R1, R0, 0, 'u64'), Add.imm(R1, 1), StoreMem(R0, 0, R1, 'u64'));
  e.emit(Ja(o.onFailure));
  e.label(reserved);
}

/**
 * Writes the current task into the header of the record at r8: its process id and its command
 * name (`bpf_get_current_comm`), which names the process even when it has exited before user
 * space reads the event. Clobbers r0-r5.
 */
export function emitCurrentTask(e: Emitter): void {
  e.emit(call(Helper.get_current_pid_tgid), RSh.imm(R0, 32), StoreMem(R8, HEADER.pid, R0, 'u32'));
  e.emit(Mov.reg(R1, R8), Add.imm(R1, HEADER.comm), Mov.imm(R2, HEADER.commSize), call(Helper.get_current_comm));
}
