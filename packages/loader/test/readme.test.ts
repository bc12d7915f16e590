// The README's first example, verbatim apart from `break`, the traffic that triggers it and the
// closing check (indented one level deeper).
import { execFileSync } from 'node:child_process';
import { it, expect } from 'vitest';
import { Add, call, exit, Helper, link, LoadMapPtr, LoadMem, Mov, R0, R1, R2, R3, R4, R10, StoreMem } from 'bpf-asm-ts';
import {
  AttachType,
  BpfMap,
  MapType,
  Program,
  ProgramType,
  RingBufReader,
  attachTracing,
  tracepointBtfId,
} from '../src/index.js';

it('README: load, attach and read events from a hand-assembled program', async () => {
  const seen: string[] = [];
  // --- README example starts ---
  const events = BpfMap.create({
    name: 'events',
    type: MapType.RINGBUF,
    keySize: 0,
    valueSize: 0,
    maxEntries: 1 << 16,
  });
  let prog, link_, reader;
  try {
    prog = Program.load({
      name: 'freed_skbs',
      type: ProgramType.TRACING,
      expectedAttachType: AttachType.TRACE_RAW_TP, // tp_btf
      attachBtfId: tracepointBtfId('kfree_skb'),
      maps: { events },
      instructions: link([
        LoadMem(R1, R1, 0, 'u64'), // args[0]: struct sk_buff *
        StoreMem(R10, -8, R1, 'u64'),
        LoadMapPtr(R1, 'events'),
        Mov.reg(R2, R10),
        Add.imm(R2, -8),
        Mov.imm(R3, 8),
        Mov.imm(R4, 0),
        call(Helper.ringbuf_output),
        Mov.imm(R0, 0),
        exit(),
      ]),
    });
    link_ = attachTracing(prog, { attachType: AttachType.TRACE_RAW_TP });
    reader = new RingBufReader(events);
    setTimeout(() => execFileSync('bash', ['-c', 'echo x > /dev/udp/127.0.0.1/9']), 10); // a dropped packet
    for await (const rec of reader) {
      seen.push(`skb 0x${new DataView(rec.buffer).getBigUint64(0, true).toString(16)} freed`);
      break;
    }
  } finally {
    reader?.close();
    link_?.close();
    prog?.close();
    events.close();
  }
  expect(events.closed).toBe(true);
  // --- README example ends ---
  expect(seen[0]).toMatch(/^skb 0xffff[0-9a-f]+ freed$/);
});
