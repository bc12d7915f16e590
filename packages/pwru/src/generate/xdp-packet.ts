/**
 * `--output-pcapng` for XDP events (`--filter-trace-xdp`): the frame the XDP program sees,
 * `[xdp->data, xdp->data_end)`, copied in the kernel as the skb copy (`skb-packet.ts`) does it:
 * into the per-CPU buffer behind a header stamped with the event's CPU and time, then to the
 * `skb_packets` ring. An XDP frame always starts at its Ethernet header; its original length is
 * `data_end - data`.
 */
import { R3, R4, R9, StoreImm, StoreMem, Sub } from 'bpf-asm-ts';
import type { Emitter } from './emitter.js';
import { emitPacketBuffer, emitPacketCopy, PACKET_HEADER, PacketStart, type SkbPacketPlan } from './skb-packet.js';
import type { XdpFrame, XdpLayout } from './xdp.js';

/**
 * Emits the copy into an XDP tracing program, after its event record (in r8) is filled and
 * before it is submitted. Uses r9 for the buffer and the frame's packet area for the map key;
 * any failure skips the copy (user space writes the event without bytes).
 */
export function emitXdpPacket(e: Emitter, plan: SkbPacketPlan, x: XdpLayout, f: XdpFrame): void {
  const done = e.fresh('xdp_pkt_done');
  const release = e.fresh('xdp_pkt_release');
  emitPacketBuffer(e, f.pkt, done);
  e.emit(StoreImm(R9, PACKET_HEADER.start, PacketStart.Mac, 'u32'));

  e.section('packet: copy min(snaplen, data_end - data) bytes from xdp->data');
  e.loadStack(R3, f.base + x.data.offset, 8);
  e.loadStack(R4, f.base + x.dataEnd.offset, 8);
  e.emit(Sub.reg(R4, R3));
  e.emit(StoreMem(R9, PACKET_HEADER.origLen, R4, 'u32'));
  emitPacketCopy(e, plan, release, done);
}
