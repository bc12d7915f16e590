/**
 * Hand-assembled test programs for skb tracepoints: copy the IPv4 header of the traced skb
 * (arg 0 of kfree_skb/consume_skb) and, if its destination matches, send it to a ring buffer or
 * perf event array. Offsets come from the running kernel's BTF via btf-parser.
 */
import { memberPath } from 'btf-parser';
import {
  Add,
  call,
  exit,
  Helper,
  JNE,
  LoadImm64,
  LoadMapPtr,
  LoadMem,
  Mov,
  R0,
  R1,
  R2,
  R3,
  R4,
  R5,
  R6,
  R7,
  R8,
  R10,
  type Instruction,
} from 'bpf-asm-ts';
import { kernelBtf } from '../src/link/targets.js';

/** Size of the record the programs emit: the 20-byte IPv4 header. */
export const RECORD_SIZE = 20;

/** Offsets of sk_buff fields the programs read. */
export function skbOffsets(): { head: number; networkHeader: number } {
  const btf = kernelBtf();
  const skb = btf.typeByName('sk_buff', 'struct');
  return {
    head: memberPath(btf, skb, 'head').loads[0]!.offset,
    networkHeader: memberPath(btf, skb, 'network_header').loads[0]!.offset,
  };
}

/**
 * The program body; `output` is 'ringbuf' (map "events") or 'perf' (map "events", perf array).
 * `skbOffset` is where the skb pointer sits in the context: 0 for raw_tp/tp_btf (args[0]), 8 for
 * a perf tracepoint (skbaddr after the common fields).
 */
export function ipHeaderProgram(daddrRaw: number, output: 'ringbuf' | 'perf', skbOffset = 0): Instruction[] {
  const off = skbOffsets();
  const probeRead = (dstOff: number, size: number, base: typeof R6, add: number, comment: string) => [
    Mov.reg(R1, R10),
    Add.imm(R1, dstOff),
    Mov.imm(R2, size),
    Mov.reg(R3, base),
    Add.imm(R3, add),
    call(Helper.probe_read_kernel).withComment(comment),
  ];
  return [
    Mov.reg(R8, R1).withComment('ctx'),
    LoadMem(R6, R1, skbOffset, 'u64').withComment('struct sk_buff *'),
    ...probeRead(-8, 8, R6, off.head, 'skb->head'),
    ...probeRead(-16, 2, R6, off.networkHeader, 'skb->network_header'),
    LoadMem(R7, R10, -8, 'u64'),
    LoadMem(R1, R10, -16, 'u16'),
    Add.reg(R7, R1).withComment('IPv4 header'),
    ...probeRead(-40, 20, R7, 0, 'copy the IPv4 header'),
    LoadMem(R1, R10, -40 + 16, 'u32').withComment('daddr'),
    LoadImm64(R2, BigInt(daddrRaw)),
    JNE.reg(R1, R2, 'out'),
    ...(output === 'ringbuf'
      ? [
          LoadMapPtr(R1, 'events'),
          Mov.reg(R2, R10),
          Add.imm(R2, -40),
          Mov.imm(R3, RECORD_SIZE),
          Mov.imm(R4, 0),
          call(Helper.ringbuf_output),
        ]
      : [
          Mov.reg(R1, R8),
          LoadMapPtr(R2, 'events'),
          LoadImm64(R3, 0xffffffffn), // BPF_F_CURRENT_CPU
          Mov.reg(R4, R10),
          Add.imm(R4, -40),
          Mov.imm(R5, RECORD_SIZE),
          call(Helper.perf_event_output),
        ]),
    Mov.imm(R0, 0).withSymbol('out'),
    exit(),
  ];
}
