/**
 * `--output-pcapng`: the packet bytes of every event, copied in the kernel at the traced function.
 *
 * The bytes start at the MAC header when the skb has one (`mac_len != 0`, the rule the pcap
 * filter uses to pick its Ethernet program) and at the network header otherwise (raw IP), and
 * stop at the snap length or the end of the linear data (`skb->tail`), whichever comes first.
 * The original length is `skb->len` plus the bytes between that header and `skb->data`.
 *
 * Transport, as the skb dumps (`skb-dump.ts`): the bytes go into a per-CPU buffer behind a
 * header stamped with the event's CPU and `bpf_ktime_get_ns()`, and `bpf_ringbuf_output` copies
 * header and bytes into a SECOND ring buffer, `skb_packets`, as a record of just the captured
 * length. The event ring and its records are unchanged: runs without `--output-pcapng` load
 * none of this code and pay nothing.
 */
import { type Btf, memberPath } from 'btf-parser';
import {
  Add,
  call,
  Helper,
  Ja,
  JEq,
  JGT,
  JLE,
  JNE,
  JSLE,
  LoadMapPtr,
  LoadMem,
  Mov,
  R0,
  R1,
  R10,
  R2,
  R3,
  R4,
  R7,
  R8,
  R9,
  StoreImm,
  StoreMem,
  Sub,
} from 'bpf-asm-ts';
import { PwruError } from '../errors.js';
import { HEADER } from '../event.js';
import type { Emitter } from './emitter.js';
import type { Field, KernelLayout } from './layout.js';
import type { Frame } from './program.js';

/** Names of the maps the packet copy references. */
export const PACKET_MAPS = {
  /** BPF_MAP_TYPE_RINGBUF of packet records. */
  ring: 'skb_packets',
  /** BPF_MAP_TYPE_PERCPU_ARRAY, one entry: a record header then the bytes. */
  buffer: 'skb_packet_buf',
} as const;

/** Byte offsets of a packet record's header; the captured bytes follow. */
export const PACKET_HEADER = {
  /** The event's `bpf_ktime_get_ns()` (u64). */
  ts: 0,
  /** The event's CPU (u32). */
  cpu: 8,
  /** {@link PacketStart} (u32). */
  start: 12,
  /** The packet's length from its first captured byte (u32). */
  origLen: 16,
  /** Bytes captured (u32). */
  capLen: 20,
  /** Non-zero while a program on this CPU fills the buffer (a nested program skips its copy). */
  busy: 24,
  /** Where the bytes start, as an offset from `skb->head` (scratch while the record is built). */
  startOff: 28,
  size: 32,
} as const;

/** Which header the captured bytes start at. */
export enum PacketStart {
  Mac = 1,
  Network = 2,
}

/** The default `--output-pcapng-snaplen`. */
export const DEFAULT_SNAPLEN = 256;
/** Per-CPU map values are limited to 32 KiB (`PCPU_MIN_UNIT_SIZE`); the header takes the rest. */
export const MAX_SNAPLEN = 32768 - PACKET_HEADER.size;

/** What the generated copy needs. */
export interface SkbPacketPlan {
  /** Bytes captured at most per event. */
  readonly snaplen: number;
  /** `skb->data` (a pointer). */
  readonly data: Field;
}

/** Plans the copy for a run; fails with one line on a snap length out of range. */
export function planSkbPackets(btf: Btf, snaplen: number): SkbPacketPlan {
  if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > MAX_SNAPLEN) {
    throw new PwruError(`--output-pcapng-snaplen must be between 1 and ${MAX_SNAPLEN} bytes, not ${snaplen}`);
  }
  const load = memberPath(btf, btf.typeByName('sk_buff', 'struct'), 'data').loads[0]!;
  return { snaplen, data: { offset: load.offset, size: load.size } };
}

/** Size of the per-CPU buffer's one value. */
export function packetBufferValueSize(plan: SkbPacketPlan): number {
  return PACKET_HEADER.size + ((plan.snaplen + 7) & ~7);
}

/** The packet ring's size: room for at least 4096 full records, at least 4 MiB, a power of two. */
export function packetRingBytes(plan: SkbPacketPlan): number {
  const want = Math.max(4 << 20, 4096 * (packetBufferValueSize(plan) + 8));
  return 2 ** Math.ceil(Math.log2(want));
}

/**
 * Emits the copy into the event program, after the event record (in r8) is filled and before it
 * is submitted (so user space finds the bytes when it reads the event). Uses r9 for the buffer
 * and the frame's packet area for the map key. Any failure skips the copy: user space writes
 * the event without bytes.
 */
export function emitSkbPacket(e: Emitter, plan: SkbPacketPlan, k: KernelLayout, f: Frame): void {
  const done = e.fresh('pkt_done');
  const release = e.fresh('pkt_release');
  const key = f.pkt;
  const skb = (fld: Field): number => f.skbBase + fld.offset;
  emitPacketBuffer(e, key, done);

  e.section('packet: start at the MAC header when mac_len != 0, else at the network header');
  const net = e.fresh('pkt_net');
  const have = e.fresh('pkt_start');
  e.loadStack(R1, skb(k.skb.macLen), k.skb.macLen.size);
  e.emit(JEq.imm(R1, 0, net));
  e.loadStack(R2, skb(k.skb.macHeader), k.skb.macHeader.size);
  e.emit(StoreImm(R9, PACKET_HEADER.start, PacketStart.Mac, 'u32'), Ja(have));
  e.label(net);
  e.loadStack(R2, skb(k.skb.networkHeader), k.skb.networkHeader.size);
  e.emit(StoreImm(R9, PACKET_HEADER.start, PacketStart.Network, 'u32'));
  e.label(have);
  e.emit(JEq.imm(R2, 0xffff, release)); // header not set
  e.emit(StoreMem(R9, PACKET_HEADER.startOff, R2, 'u32'));

  e.section('packet: original length = skb->len + (skb->data - skb->head) - start');
  e.readKernel(R1, R7, plan.data.offset, 8, f.scratch);
  e.loadStack(R2, skb(k.skb.head), 8);
  e.emit(Sub.reg(R1, R2));
  e.loadStack(R2, skb(k.skb.len), 4);
  e.emit(Add.reg(R1, R2));
  e.emit(LoadMem(R2, R9, PACKET_HEADER.startOff, 'u32'), Sub.reg(R1, R2));
  e.emit(StoreMem(R9, PACKET_HEADER.origLen, R1, 'u32'));

  e.section('packet: copy min(snaplen, tail - start) bytes from head + start');
  e.loadStack(R3, skb(k.skb.head), 8);
  e.emit(Add.reg(R3, R2)); // r3 = head + start
  e.loadStack(R4, skb(k.skb.tail), k.skb.tail.size);
  e.emit(Sub.reg(R4, R2)); // r4 = linear bytes from start
  emitPacketCopy(e, plan, release, done);
  e.emit(Mov.imm(R0, 0));
}

/**
 * Takes this CPU's packet buffer into r9 (the event record in r8): marks it busy and stamps it
 * with the event's ktime and CPU. Jumps to `done` when there is no buffer or it is in use (a
 * nested program on this CPU). `key` is a free 4-byte stack slot for the map key.
 */
export function emitPacketBuffer(e: Emitter, key: number, done: string): void {
  e.section("packet: the per-CPU buffer, stamped with the event's ktime and CPU");
  e.emit(
    StoreImm(R10, key, 0, 'u32'),
    LoadMapPtr(R1, PACKET_MAPS.buffer),
    Mov.reg(R2, R10),
    Add.imm(R2, key),
    call(Helper.map_lookup_elem),
  );
  e.ifZero(R0, done);
  e.emit(Mov.reg(R9, R0));
  e.emit(LoadMem(R1, R9, PACKET_HEADER.busy, 'u32'), JNE.imm(R1, 0, done), StoreImm(R9, PACKET_HEADER.busy, 1, 'u32'));
  e.emit(LoadMem(R1, R8, HEADER.ts, 'u64'), StoreMem(R9, PACKET_HEADER.ts, R1, 'u64'));
  e.emit(LoadMem(R1, R8, HEADER.cpu, 'u32'), StoreMem(R9, PACKET_HEADER.cpu, R1, 'u32'));
}

/**
 * Copies min(snaplen, r4) bytes from kernel address r3 behind the buffer's header (r9), sends
 * header and bytes to the `skb_packets` ring, and releases the buffer; places the `release` and
 * `done` labels. A length <= 0 or a failed read releases the buffer without sending.
 */
export function emitPacketCopy(e: Emitter, plan: SkbPacketPlan, release: string, done: string): void {
  e.emit(JSLE.imm(R4, 0, release));
  const fits = e.fresh('pkt_fits');
  e.emit(JLE.imm(R4, plan.snaplen, fits), Mov.imm(R4, plan.snaplen));
  e.label(fits);
  e.emit(StoreMem(R9, PACKET_HEADER.capLen, R4, 'u32'));
  e.emit(Mov.reg(R2, R4), Mov.reg(R1, R9), Add.imm(R1, PACKET_HEADER.size), call(Helper.probe_read_kernel));
  e.emit(JNE.imm(R0, 0, release));

  e.section('packet: send header and bytes to the skb_packets ring');
  e.emit(
    LoadMem(R3, R9, PACKET_HEADER.capLen, 'u32'),
    JGT.imm(R3, plan.snaplen, release),
    Add.imm(R3, PACKET_HEADER.size),
  );
  e.emit(LoadMapPtr(R1, PACKET_MAPS.ring), Mov.reg(R2, R9), Mov.imm(R4, 0), call(Helper.ringbuf_output));
  e.label(release);
  e.emit(StoreImm(R9, PACKET_HEADER.busy, 0, 'u32'));
  e.label(done);
}
