#!/usr/bin/env node
// @ts-check
// Counts dropped packets by drop reason: a tp_btf program on the kfree_skb tracepoint, written
// with bpf-asm-ts, its argument found with btf-parser, loaded and attached with bpf-loader-ts.
// Run as root: node examples/drop-reasons.mjs
// It makes its own drops (UDP to a closed port inside a fresh network namespace), but counts
// every drop on the machine while attached.
import { exit, incrementCounter, LoadMem, link, Mov, R0, R1, R6 } from 'bpf-asm-ts';
import { enumName, loadKernelBtf, tracepointSignature } from 'btf-parser';
import { AttachType, attachTracing, BpfMap, codec, MapType, MapView, Program, ProgramType } from 'bpf-loader-ts';
import { loopbackNetns } from './netns.mjs';

const vmlinux = loadKernelBtf();
// kfree_skb(skb, location, reason, ...): BTF leaves the tracepoint's arguments unnamed;
// tracepointSignature names them and says which u64 of the context each one is.
const kfree = tracepointSignature(vmlinux, 'kfree_skb');
const reason = kfree.param('reason');

const drops = BpfMap.create({ name: 'drops', type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 512 });
let prog;
let attached;
const ns = loopbackNetns();
try {
  prog = Program.load({
    name: 'drop_reasons',
    type: ProgramType.TRACING,
    expectedAttachType: AttachType.TRACE_RAW_TP, // tp_btf
    attachBtfId: kfree.typedefId,
    maps: { drops },
    instructions: link([
      LoadMem(R6, R1, 8 * reason.ctxIndex, 'u64'), // R6 = reason
      ...incrementCounter({ map: 'drops', key: R6 }), // drops[reason] += 1
      Mov.imm(R0, 0),
      exit(),
    ]),
  });
  attached = attachTracing(prog, { attachType: AttachType.TRACE_RAW_TP, target: 'tp_btf/kfree_skb' });

  ns.send(9, 5); // five datagrams nobody listens for: five NO_SOCKET drops
  const counts = new MapView(drops, codec.u32, codec.u64);
  const rows = [...counts].sort((x, y) => Number(y[1] - x[1]));
  for (const [r, n] of rows) console.log(`${String(n).padStart(6)}  ${enumName(vmlinux, 'skb_drop_reason', r) ?? r}`);
} finally {
  // Close in reverse order. Every handle is also Disposable: in TypeScript 5.2+ compiled with
  // "target": "ES2022" (which rewrites `using` into try/finally) and "lib": [..., "esnext.disposable"],
  // `using drops = BpfMap.create(...)` does this on Node 20 too; plain JavaScript needs Node 24+.
  attached?.close();
  prog?.close();
  drops.close();
  ns.destroy();
}
