/**
 * Test-only host programs that run a lowered filter in the kernel with BPF_PROG_TEST_RUN, one
 * per memory model, shared by the corpus and the random-program kernel tests.
 */
import {
  Add,
  call,
  exit,
  Helper,
  type Instruction,
  JLE,
  JNE,
  LoadMapPtr,
  LoadMem,
  Mov,
  R0,
  R1,
  R10,
  R2,
  R6,
  R7,
  StoreImm,
} from 'bpf-asm-ts';
import { PROG_TYPE, type TestBpf } from '../../../../tools/testing/bpf-syscall.mjs';
import type { MemoryModel } from './lower.js';

/** skb test runs copy the input into one page: larger packets (the jumbo frame) cannot be run. */
export const SKB_TEST_MAX = 3000;
/** A 14-byte Ethernet header the kernel strips (socket filters) or the host skips (tc). */
export const PREFIX = Uint8Array.from([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x88, 0xb5]);
export const withPrefix = (p: Uint8Array): Uint8Array => {
  const d = new Uint8Array(PREFIX.length + p.length);
  d.set(PREFIX);
  d.set(p, PREFIX.length);
  return d;
};

export interface Mode {
  name: string;
  memory: MemoryModel;
  type: number;
  /** Host code that leaves the two filter arguments in R6 and R7 (or exits with 0). */
  host: Instruction[];
}

export const MODES: Mode[] = [
  {
    name: 'packet (sched_cls, direct access)',
    memory: 'packet',
    type: PROG_TYPE.sched_cls,
    host: [
      LoadMem(R7, R1, 80, 'u32'), // data_end
      LoadMem(R6, R1, 76, 'u32'), // data
      Add.imm(R6, PREFIX.length),
      JLE.reg(R6, R7, 2),
      Mov.imm(R0, 0),
      exit(),
    ],
  },
  {
    name: 'skb (socket filter, skb_load_bytes copy)',
    memory: 'skb',
    type: PROG_TYPE.socket_filter,
    host: [Mov.reg(R6, R1), LoadMem(R7, R1, 0, 'u32')], // skb, skb->len
  },
  {
    name: 'kernel (probe_read_kernel copy)',
    memory: 'kernel',
    type: PROG_TYPE.socket_filter,
    // The packet sits in an array map value: [u32 length, u32 pad, bytes...].
    host: [
      StoreImm(R10, -4, 0, 'u32'),
      Mov.reg(R2, R10),
      Add.imm(R2, -4),
      LoadMapPtr(R1, 'packet'),
      call(Helper.map_lookup_elem),
      JNE.imm(R0, 0, 1),
      exit(),
      LoadMem(R7, R0, 0, 'u32'),
      Mov.reg(R6, R0),
      Add.imm(R6, 8),
    ],
  },
];

/** Puts packet `p` where `mode`'s host finds it and returns the test-run input. */
export function stage(k: TestBpf, mode: Mode, packetMap: number, p: Uint8Array): Uint8Array {
  if (mode.memory !== 'kernel') return withPrefix(p);
  const value = new Uint8Array(8 + p.length);
  new DataView(value.buffer).setUint32(0, p.length, true);
  value.set(p, 8);
  k.updateArray(packetMap, 0, value);
  return PREFIX;
}
