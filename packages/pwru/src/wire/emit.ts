/**
 * The generated code that fills the wire section ({@link WIRE}). The IP and TCP fields come from
 * the header bytes the tuple's parse already read (`emitL3Tuple` calls the hooks below at the
 * points where they are on the stack); {@link emitWireData} then reads the payload's first bytes.
 */
import { Add, JEq, JNE, LoadMem, LSh, Mov, R0, R1, R2, R3, R8, R9, RSh, StoreMem, Sub } from 'bpf-asm-ts';
import { TUPLE } from '../event.js';
import type { Emitter } from '../generate/emitter.js';
import { WIRE } from './section.js';

/** Stack slots of the tuple's parse the hooks read. */
export interface WireFrame {
  /** The L3 header's first 40 bytes. */
  readonly pkt: number;
  /** The L4 header's first 14 bytes; after the L3 parse, `scratch + 8` holds the L4 offset. */
  readonly scratch: number;
}

/** IPv4: `id` and `tot_len` from the header at `f.pkt`. */
export function emitWireIpv4(e: Emitter, f: WireFrame, base: number): void {
  e.loadStack(R1, f.pkt + 4, 2);
  e.emit(StoreMem(R8, base + WIRE.ipId, R1, 'u16'));
  e.loadStack(R1, f.pkt + 2, 2);
  e.emit(StoreMem(R8, base + WIRE.ipLen, R1, 'u16'));
}

/** IPv6: `payload_len` from the header at `f.pkt`. */
export function emitWireIpv6(e: Emitter, f: WireFrame, base: number): void {
  e.loadStack(R1, f.pkt + 4, 2);
  e.emit(StoreMem(R8, base + WIRE.ipLen, R1, 'u16'));
}

/** At the L4 header: its offset from the L3 header (from `scratch + 8`, before it is overwritten). */
export function emitWireL4(e: Emitter, f: WireFrame, base: number): void {
  e.loadStack(R1, f.scratch + 8, 2);
  e.emit(StoreMem(R8, base + WIRE.l4Off, R1, 'u16'));
}

/** TCP: sequence, acknowledgement and data offset from the header at `f.scratch`. */
export function emitWireTcp(e: Emitter, f: WireFrame, base: number): void {
  e.loadStack(R1, f.scratch + 4, 4);
  e.emit(StoreMem(R8, base + WIRE.seq, R1, 'u32'));
  e.loadStack(R1, f.scratch + 8, 4);
  e.emit(StoreMem(R8, base + WIRE.ack, R1, 'u32'));
  e.loadStack(R1, f.scratch + 12, 1);
  e.emit(StoreMem(R8, base + WIRE.tcpDoff, R1, 'u8'));
}

/** Where the skb's linear data ends, for {@link emitWireData}. */
export interface WireLinearEnd {
  /** Stack offsets of the copied `skb->head` (8 bytes) and `skb->tail` (an offset from head). */
  readonly head: number;
  readonly tail: number;
  readonly tailSize: number;
}

/**
 * After the tuple's parse (r9 = the L3 header, in kernel memory): the payload offset, the linear
 * bytes from the L3 header, and 16 bytes at the payload copied through `f.pkt`. Skipped when the
 * parse stopped before the L4 header. Clobbers r0-r5.
 */
export function emitWireData(e: Emitter, f: WireFrame, base: number, tupleBase: number, end: WireLinearEnd): void {
  e.section('event: wire ids (payload offset, linear length, first payload bytes)');
  const skip = e.fresh('wire_skip');
  const have = e.fresh('wire_hdr');
  e.emit(LoadMem(R1, R8, base + WIRE.l4Off, 'u16'));
  e.ifZero(R1, skip);
  e.emit(LoadMem(R2, R8, tupleBase + TUPLE.l4, 'u8'), Mov.imm(R3, 8));
  e.emit(JEq.imm(R2, 17, have), JEq.imm(R2, 1, have), JEq.imm(R2, 58, have), Mov.imm(R3, 0));
  e.emit(JNE.imm(R2, 6, have));
  e.emit(LoadMem(R3, R8, base + WIRE.tcpDoff, 'u8'), RSh.imm(R3, 4), LSh.imm(R3, 2));
  e.label(have);
  e.emit(Add.reg(R1, R3), StoreMem(R8, base + WIRE.payloadOff, R1, 'u16'));
  e.loadStack(R2, end.head, 8);
  e.loadStack(R3, end.tail, end.tailSize);
  e.emit(Add.reg(R2, R3), Sub.reg(R2, R9), StoreMem(R8, base + WIRE.linear, R2, 'u32'));
  e.emit(Mov.reg(R3, R9), Add.reg(R3, R1));
  e.probeRead(f.pkt, 16, R3);
  e.emit(JNE.imm(R0, 0, skip));
  for (let i = 0; i < 16; i += 8) {
    e.loadStack(R1, f.pkt + i, 8);
    e.emit(StoreMem(R8, base + WIRE.data + i, R1, 'u64'));
  }
  e.label(skip);
  e.emit(Mov.imm(R0, 0));
}
