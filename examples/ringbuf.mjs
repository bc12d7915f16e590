#!/usr/bin/env node
// @ts-check
// Loads an XDP program that reports every packet (ingress ifindex and length) through a BPF ring
// buffer, and reads the records from Node's event loop with RingBufReader.
// Run as root: node examples/ringbuf.mjs
import {
  Add,
  call,
  exit,
  Helper,
  link,
  LoadMapPtr,
  LoadMem,
  Mov,
  R0,
  R1,
  R2,
  R3,
  R4,
  R6,
  R10,
  StoreMem,
  Sub,
  XdpAction,
  XdpMdOffset,
} from 'bpf-asm-ts';
import { attachXdp, BpfMap, MapType, Program, ProgramType, RingBufReader, XdpMode } from 'bpf-loader-ts';
import { netnsPair } from './netns.mjs';

const WANTED = 4;
const pair = netnsPair();
const events = BpfMap.create({ name: 'events', type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 1 << 16 });
let prog;
let attached;
let reader;
try {
  prog = Program.load({
    name: 'report',
    type: ProgramType.XDP,
    maps: { events },
    instructions: link([
      Mov.reg(R6, R1), // R6 = struct xdp_md *
      LoadMem(R2, R6, XdpMdOffset.ingress_ifindex, 'u32'),
      StoreMem(R10, -8, R2, 'u32'), // record.ifindex
      LoadMem(R2, R6, XdpMdOffset.data_end, 'u32'),
      LoadMem(R3, R6, XdpMdOffset.data, 'u32'),
      Sub.reg(R2, R3), // data_end - data (a pointer difference: needs CAP_BPF/CAP_PERFMON)
      StoreMem(R10, -4, R2, 'u32'), // record.length
      LoadMapPtr(R1, 'events'),
      Mov.reg(R2, R10),
      Add.imm(R2, -8),
      Mov.imm(R3, 8),
      Mov.imm(R4, 0),
      call(Helper.ringbuf_output), // bpf_ringbuf_output(&events, &record, 8, 0)
      Mov.imm(R0, XdpAction.PASS),
      exit(),
    ]),
  });
  attached = attachXdp(prog, 'veth1', { netns: pair.b, mode: XdpMode.SKB });
  reader = new RingBufReader(events);

  pair.send(4000, WANTED); // ARP and the datagrams arrive on veth1
  let seen = 0;
  for await (const rec of reader) {
    const v = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
    console.log(`packet on ifindex ${v.getUint32(0, true)}: ${v.getUint32(4, true)} bytes`);
    if (++seen === WANTED) break;
  }
} finally {
  reader?.close();
  attached?.close();
  prog?.close();
  events.close();
  pair.destroy();
}
