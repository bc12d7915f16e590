import type { Btf } from 'btf-parser';
import {
  Add,
  call,
  callFunction,
  Helper,
  type Instruction,
  JEq,
  JNE,
  LoadMem,
  Mov,
  R0,
  R1,
  R10,
  R2,
  R3,
  R6,
  R7,
  R8,
  R9,
  StoreImm,
  StoreMem,
  Sub,
} from 'bpf-asm-ts';
import { emitRecordEntry } from './return.js';
import { EventKind, HEADER, META, type EventLayout } from '../event.js';
import { field } from './btf-layout.js';
import { Emitter } from './emitter.js';
import { emitCurrentTask, emitReserve } from './reserve.js';
import type { Field, KernelLayout } from './layout.js';
import { emitL3Tuple, MAPS } from './program.js';
import { emitSkbMetadata, type SkbMetadata } from './skb-metadata.js';
import { emitXdpHeadRecord, emitXdpHeadTaken } from './tracking-code.js';
import type { SkbPacketPlan } from './skb-packet.js';
import { emitXdpPacket } from './xdp-packet.js';

/** The `struct xdp_buff` and `struct xdp_rxq_info` members an XDP tracing program reads. */
export interface XdpLayout {
  readonly data: Field;
  readonly dataEnd: Field;
  readonly rxq: Field;
  readonly dataHardStart: Field;
  /** `xdp_rxq_info.dev`. */
  readonly rxqDev: Field;
}

/** Reads the {@link XdpLayout} from the kernel's BTF. */
export function xdpLayoutFromBtf(btf: Btf): XdpLayout {
  return {
    data: field(btf, 'xdp_buff', 'data'),
    dataEnd: field(btf, 'xdp_buff', 'data_end'),
    rxq: field(btf, 'xdp_buff', 'rxq'),
    dataHardStart: field(btf, 'xdp_buff', 'data_hard_start'),
    rxqDev: field(btf, 'xdp_rxq_info', 'dev'),
  };
}

/** Stack frame of the XDP tracing programs (offsets from r10). */
export interface XdpFrame {
  /** Stack offset of xdp_buff offset 0 in the bulk copy: a member at `o` is at `base + o`. */
  readonly base: number;
  /** Where the copy starts on the stack, how long it is, and the xdp_buff offset it starts at. */
  readonly copy: number;
  readonly copyLen: number;
  readonly copyStart: number;
  /** `xdp->rxq->dev` (u64, 0 when unknown). */
  readonly dev: number;
  /** The outer Ethernet type (u16, network order), then the inner one of a tagged frame. */
  readonly ethType: number;
  /** 16 bytes of scratch for pointer chasing (as the skb programs' frame). */
  readonly scratch: number;
  /** The netns inode (u32). */
  readonly netns: number;
  /** 40 bytes of L3 header for the tuple. */
  readonly pkt: number;
  /** Bytes of stack the frame uses. */
  readonly size: number;
}

/** The frame for a kernel's `struct xdp_buff`. */
export function xdpFrameFor(x: XdpLayout): XdpFrame {
  const fields = [x.data, x.dataEnd, x.rxq, x.dataHardStart];
  const copyStart = Math.min(...fields.map((f) => f.offset)) & ~7;
  const copyLen = (Math.max(...fields.map((f) => f.offset + f.size)) - copyStart + 7) & ~7;
  const copy = -copyLen;
  const dev = copy - 8;
  const ethType = dev - 8;
  const scratch = ethType - 16;
  const netns = scratch - 8;
  const pkt = netns - 40;
  return { base: copy - copyStart, copy, copyLen, copyStart, dev, ethType, scratch, netns, pkt, size: -pkt };
}

/** What one XDP tracing program filters on and records. */
export interface XdpProgramOptions {
  readonly layout: EventLayout;
  readonly kernel: KernelLayout;
  readonly xdp: XdpLayout;
  /** Site index written into every event. */
  readonly site: number;
  /** netns inode and ifindex of `xdp->rxq->dev` to match (0 = any). Marks do not apply to XDP. */
  readonly netns: number;
  readonly ifindex: number;
  /** Name of the L2 pcap filter function (see `pcapL2Function`), run on `[data, data_end)`. */
  readonly pcap?: string;
  /**
   * Further filters (the `--filter-xdp-expr` fragment): r7 holds the `struct xdp_buff *`; each
   * jumps to `reject` to drop the packet.
   */
  readonly fragments?: ReadonlyArray<(e: Emitter, reject: string) => void>;
  /** Whether `bpf_get_func_ip` exists for tracing programs. */
  readonly haveFuncIp: boolean;
  /** `--output-xdp-metadata` expressions. */
  readonly metadata?: readonly SkbMetadata[];
  /** `--output-return`: store each emitted event for the fexit program (keyed by the xdp_buff). */
  readonly recordReturn?: boolean;
  /**
   * `--filter-track-skb`: a buffer whose skb matched (`skb->head` = `data_hard_start`, e.g. veth)
   * skips the filters, and a matched buffer is remembered for the skb built from it.
   */
  readonly linkSkbHeads?: boolean;
  /** `--output-pcapng`: copy the frame for the event (see `xdp-packet.ts`). */
  readonly packets?: SkbPacketPlan;
}

/**
 * The fentry program for an XDP program's entry function (`--filter-trace-xdp`): its argument is
 * the `struct xdp_buff *` the program sees as `struct xdp_md *`. Filters as upstream's
 * `fentry_xdp` — the L2 pcap filter on `[data, data_end)`, netns and ifindex of
 * `xdp->rxq->dev`, `--filter-xdp-expr` — then writes one event: SKB is the xdp_buff's address,
 * meta has no mark, LEN is `data_end - data`, PROTO is the Ethernet type (upstream leaves it 0),
 * the tuple is parsed after the Ethernet header (and one 802.1Q tag).
 */
export function generateXdpProgram(o: XdpProgramOptions): Instruction[] {
  const { layout, kernel: k, xdp: x } = o;
  const f = xdpFrameFor(x);
  const e = new Emitter('pwru_xdp');
  const out = 'out';

  e.section('prologue: the struct xdp_buff * argument, one bulk read of it');
  e.emit(Mov.reg(R6, R1), LoadMem(R7, R6, 0, 'u64'));
  e.ifZero(R7, out);
  e.probeRead(f.copy, f.copyLen, R7, f.copyStart);
  e.emit(JNE.imm(R0, 0, out));

  e.section('xdp->rxq->dev');
  const noDev = e.fresh('nodev');
  e.emit(StoreImm(R10, f.dev, 0, 'u64'));
  e.loadStack(R1, f.base + x.rxq.offset, 8);
  e.ifZero(R1, noDev);
  e.readKernel(R1, R1, x.rxqDev.offset, 8, f.scratch);
  e.emit(StoreMem(R10, f.dev, R1, 'u64'));
  e.label(noDev);

  if (o.netns !== 0 || layout.meta >= 0) {
    e.section('netns inode: xdp->rxq->dev->nd_net.net->ns.inum');
    const none = e.fresh('netns_none');
    e.emit(StoreImm(R10, f.netns, 0, 'u64'));
    e.loadStack(R1, f.dev, 8);
    e.ifZero(R1, none);
    e.readKernel(R3, R1, k.netDevice.net.offset, 8, f.scratch);
    e.ifZero(R3, none);
    e.readKernel(R0, R3, k.netInum.offset, 4, f.scratch);
    e.emit(StoreMem(R10, f.netns, R0, 'u32'));
    e.label(none);
    if (o.netns !== 0) {
      e.section('filter: --filter-netns');
      e.loadStack(R1, f.netns, 4);
      e.emit(JNE.imm32(R1, o.netns | 0, out));
    }
  }

  if (o.ifindex !== 0) {
    e.section('filter: --filter-ifname (xdp->rxq->dev->ifindex)');
    e.loadStack(R1, f.dev, 8);
    e.ifZero(R1, out);
    e.readKernel(R1, R1, k.netDevice.ifindex.offset, 4, f.scratch);
    e.emit(JNE.imm32(R1, o.ifindex | 0, out));
  }

  const matched = e.fresh('matched');
  const head = f.base + x.dataHardStart.offset;
  if (o.linkSkbHeads) {
    e.section('track: was this buffer an skb that matched (data_hard_start == skb->head)');
    emitXdpHeadTaken(e, head, f.scratch, matched);
  }
  if (o.pcap) {
    e.section('filter: pcap (L2, on [xdp->data, xdp->data_end))');
    e.loadStack(R1, f.base + x.data.offset, 8);
    e.loadStack(R2, f.base + x.dataEnd.offset, 8);
    e.emit(Sub.reg(R2, R1), callFunction(o.pcap), JEq.imm(R0, 0, out));
  }
  for (const fragment of o.fragments ?? []) fragment(e, out);
  e.label(matched);
  if (o.linkSkbHeads) {
    e.section('track: remember the buffer for the skb built from it (--filter-track-skb)');
    emitXdpHeadRecord(e, head, f.scratch);
  }

  emitReserve(e, { eventsMap: MAPS.events, lostMap: MAPS.lost, size: layout.size, scratch: f.scratch, onFailure: out });
  e.section('event: zero the record');
  for (let off = 0; off < layout.size; off += 8) e.emit(StoreImm(R8, off, 0, 'u64'));

  e.section('event: header (SKB = the xdp_buff)');
  e.emit(StoreMem(R8, HEADER.skb, R7, 'u64'));
  if (o.haveFuncIp) e.emit(Mov.reg(R1, R6), call(Helper.get_func_ip), StoreMem(R8, HEADER.addr, R0, 'u64'));
  e.emit(call(Helper.ktime_get_ns), StoreMem(R8, HEADER.ts, R0, 'u64'));
  emitCurrentTask(e);
  e.emit(call(Helper.get_smp_processor_id), StoreMem(R8, HEADER.cpu, R0, 'u32'));
  e.emit(StoreImm(R8, HEADER.site, o.site, 'u32'), StoreImm(R8, HEADER.kind, EventKind.Xdp, 'u32'));

  e.section('the Ethernet type (after one 802.1Q tag, r9 = the L3 header)');
  e.emit(StoreImm(R10, f.ethType, 0, 'u64'));
  e.loadStack(R9, f.base + x.data.offset, 8);
  e.probeRead(f.ethType, 2, R9, 12);
  e.loadStack(R1, f.ethType, 2);
  e.emit(Add.imm(R9, 14));
  const untagged = e.fresh('untagged');
  e.emit(JNE.imm(R1, 0x0081, untagged));
  e.probeRead(f.ethType + 2, 2, R9, 2);
  e.emit(Add.imm(R9, 4));
  e.label(untagged);

  if (layout.meta >= 0) {
    e.section('event: meta (netns, ifindex, len, mtu, protocol; no mark)');
    const m = layout.meta;
    e.loadStack(R1, f.netns, 4);
    e.emit(StoreMem(R8, m + META.netns, R1, 'u32'));
    e.loadStack(R1, f.base + x.dataEnd.offset, 8);
    e.loadStack(R2, f.base + x.data.offset, 8);
    e.emit(Sub.reg(R1, R2), StoreMem(R8, m + META.len, R1, 'u32'));
    e.loadStack(R1, f.ethType, 2);
    e.emit(StoreMem(R8, m + META.proto, R1, 'u16'));
    const done = e.fresh('meta_done');
    e.loadStack(R1, f.dev, 8);
    e.ifZero(R1, done);
    e.readKernel(R2, R1, k.netDevice.ifindex.offset, 4, f.scratch);
    e.emit(StoreMem(R8, m + META.ifindex, R2, 'u32'));
    e.loadStack(R1, f.dev, 8);
    e.readKernel(R2, R1, k.netDevice.mtu.offset, 4, f.scratch);
    e.emit(StoreMem(R8, m + META.mtu, R2, 'u32'));
    e.label(done);
  }

  if (layout.tuple >= 0) {
    e.section('event: tuple (L3/L4 after the Ethernet header)');
    const done = e.fresh('tuple_done');
    const ip = e.fresh('tuple_ip');
    // A tagged frame's L3 type is the inner one.
    e.loadStack(R1, f.ethType, 2);
    const plain = e.fresh('tuple_plain');
    e.emit(JNE.imm(R1, 0x0081, plain));
    e.loadStack(R1, f.ethType + 2, 2);
    e.label(plain);
    e.emit(JEq.imm(R1, 0x0008, ip), JNE.imm(R1, 0xdd86, done));
    e.label(ip);
    emitL3Tuple(e, f, layout.tuple, 'tuple', done);
  }

  if (layout.metadata >= 0) emitSkbMetadata(e, o.metadata ?? [], f, layout.metadata);
  if (o.packets) emitXdpPacket(e, o.packets, x, f);
  if (o.recordReturn) emitRecordEntry(e, { kind: 'skb', skbArg: 0 }, f.pkt, layout.size);

  e.section('event: submit');
  e.emit(Mov.reg(R1, R8), Mov.imm(R2, 0), call(Helper.ringbuf_submit));
  e.label(out);
  e.ret(0);
  return e.insns;
}
