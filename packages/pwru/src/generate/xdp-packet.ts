/**
 * `--output-pcapng` for XDP events (`--filter-trace-xdp`): the frame the XDP program sees,
 * `[xdp->data, xdp->data_end)`, copied in the kernel as the skb copy (`skb-packet.ts`) does it:
 * into the per-CPU buffer behind a header stamped with the event's CPU and time, then to the
 * `skb_packets` ring. An XDP frame always starts at its Ethernet header; its original length is
 * `data_end - data`.
 */
import {
  Add,
  call,
  Helper,
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
  R8,
  R9,
  StoreImm,
  StoreMem,
  Sub,
} from 'bpf-asm-ts';
import { HEADER } from '../event.js';
import type { Emitter } from './emitter.js';
import { PACKET_HEADER, PACKET_MAPS, PacketStart, type SkbPacketPlan } from './skb-packet.js';
import type { XdpFrame, XdpLayout } from './xdp.js';

/**
 * Emits the copy into an XDP tracing program, after its event record (in r8) is filled and
 * before it is submitted. Uses r9 for the buffer and the frame's packet area for the map key;
 * any failure skips the copy (user space writes the event without bytes).
 */
export function emitXdpPacket(e: Emitter, plan: SkbPacketPlan, x: XdpLayout, f: XdpFrame): void {
  const done = e.fresh('xdp_pkt_done');
  const release = e.fresh('xdp_pkt_release');
  e.section("packet: the per-CPU buffer, stamped with the event's ktime and CPU");
  e.emit(
    StoreImm(R10, f.pkt, 0, 'u32'),
    LoadMapPtr(R1, PACKET_MAPS.buffer),
    Mov.reg(R2, R10),
    Add.imm(R2, f.pkt),
    call(Helper.map_lookup_elem),
  );
  e.ifZero(R0, done);
  e.emit(Mov.reg(R9, R0));
  e.emit(LoadMem(R1, R9, PACKET_HEADER.busy, 'u32'), JNE.imm(R1, 0, done), StoreImm(R9, PACKET_HEADER.busy, 1, 'u32'));
  e.emit(LoadMem(R1, R8, HEADER.ts, 'u64'), StoreMem(R9, PACKET_HEADER.ts, R1, 'u64'));
  e.emit(LoadMem(R1, R8, HEADER.cpu, 'u32'), StoreMem(R9, PACKET_HEADER.cpu, R1, 'u32'));
  e.emit(StoreImm(R9, PACKET_HEADER.start, PacketStart.Mac, 'u32'));

  e.section('packet: copy min(snaplen, data_end - data) bytes from xdp->data');
  e.loadStack(R3, f.base + x.data.offset, 8);
  e.loadStack(R4, f.base + x.dataEnd.offset, 8);
  e.emit(Sub.reg(R4, R3), JSLE.imm(R4, 0, release));
  e.emit(StoreMem(R9, PACKET_HEADER.origLen, R4, 'u32'));
  const fits = e.fresh('xdp_pkt_fits');
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
