/**
 * Standalone programs around a lowered filter, ready for `link()` and a loader:
 * - {@link socketFilterProgram}: `BPF_PROG_TYPE_SOCKET_FILTER` (copy via `bpf_skb_load_bytes`;
 *   socket filters cannot read packet memory directly). Returns the cBPF value: bytes to keep.
 * - {@link tcProgram}: `BPF_PROG_TYPE_SCHED_CLS` with direct packet access.
 * - {@link xdpProgram}: `BPF_PROG_TYPE_XDP` with direct packet access.
 * Each returns the filter's result as the program's return value (0 = reject), or the
 * `verdict` values you choose (an XDP program wants `{ accept: 2, reject: 1 }`: XDP_PASS and
 * XDP_DROP); `tcProgram` and `xdpProgram` can skip `offset` bytes first (e.g. 14 to filter
 * from the IP header).
 */
import {
  Add,
  exit,
  Instruction,
  Ja,
  JEq,
  JLE,
  LoadMem,
  Mov,
  R0,
  R1,
  R2,
  R6,
  R7,
  SkBuffCtxOffset,
  slotCount,
  XdpMdOffset,
} from 'bpf-asm-ts';
import type { CbpfInstruction } from '../cbpf/instruction.js';
import { lowerCbpf, type LoweredFilter, type LowerOptions } from './lower.js';

/** Program types the builders produce. */
export type ProgramKind = 'socket_filter' | 'sched_cls' | 'xdp';

/** `BPF_PROG_TYPE_*` of each {@link ProgramKind}, the number a loader's `Program.load({ type })` takes. */
export const PROGRAM_TYPE = { socket_filter: 1, sched_cls: 3, xdp: 6 } as const satisfies Record<ProgramKind, number>;

/** A complete program: instructions to pass to `link()`, and what it is. */
export interface FilterProgram {
  /** The kernel program type, by name. */
  kind: ProgramKind;
  /** The kernel program type as `BPF_PROG_TYPE_*` (for `Program.load({ type })`). */
  type: (typeof PROGRAM_TYPE)[ProgramKind];
  /** The instructions (the filter inlined), ending in `exit`. */
  instructions: Instruction[];
  /** The lowered filter inside. */
  filter: LoweredFilter;
}

/** Options shared by the builders. */
export interface FilterProgramOptions
  extends Pick<LowerOptions, 'labelPrefix' | 'indirectWindow' | 'maxLoopIterations'> {
  /** Bytes to skip at the packet start before the filter sees it (tc/xdp). Default 0. */
  offset?: number;
  /** Return these instead of the filter's raw result (e.g. TC_ACT_OK / TC_ACT_SHOT, XDP_PASS / XDP_DROP). */
  verdict?: { accept: number; reject: number };
  /**
   * Code run when the filter matches, before the program returns: e.g. count the packet
   * (`incrementCounter` from bpf-asm-ts). It starts with R1 = R6 = the program's context and
   * R7 = the filter's result, may use R0–R5, R8, R9 and the whole stack, must keep R6 and R7,
   * and either falls through (the program then returns as without hooks) or ends in its own
   * `exit` with R0 set. Jumps inside it are its own (labels it defines, or relative).
   */
  onMatch?: readonly Instruction[];
  /** Like {@link onMatch}, when the filter does not match. */
  onMiss?: readonly Instruction[];
}

const SKB_LEN = SkBuffCtxOffset.len;
const SKB_DATA = SkBuffCtxOffset.data;
const SKB_DATA_END = SkBuffCtxOffset.data_end;
const XDP_DATA = XdpMdOffset.data;
const XDP_DATA_END = XdpMdOffset.data_end;

function inline(
  cbpf: readonly CbpfInstruction[],
  memory: LowerOptions['memory'],
  options: FilterProgramOptions,
): LoweredFilter {
  const prefix = options.labelPrefix ?? 'pcap_filter';
  return lowerCbpf(cbpf, {
    memory,
    form: 'inline',
    labelPrefix: prefix,
    resultLabel: `${prefix}_done`,
    ...(options.indirectWindow !== undefined ? { indirectWindow: options.indirectWindow } : {}),
    ...(options.maxLoopIterations !== undefined ? { maxLoopIterations: options.maxLoopIterations } : {}),
  });
}

/** Whether the program saves its context in R6 for hooks. */
function hooked(options: FilterProgramOptions): boolean {
  return options.onMatch !== undefined || options.onMiss !== undefined;
}

/** The program's ending at the filter's result label: return R0, or map it to the verdict values. */
function ending(filter: LoweredFilter, options: FilterProgramOptions): Instruction[] {
  const v = options.verdict;
  if (!hooked(options)) {
    if (!v) return [exit().withSymbol(filter.resultLabel)];
    return [
      JEq.imm(R0, 0, 2).withSymbol(filter.resultLabel),
      Mov.imm32(R0, v.accept),
      exit(),
      Mov.imm32(R0, v.reject),
      exit(),
    ];
  }
  // R7 = the result; each branch restores R1 = ctx, runs its hook, then returns.
  const match = [Mov.reg(R1, R6), ...(options.onMatch ?? []), v ? Mov.imm32(R0, v.accept) : Mov.reg(R0, R7), exit()];
  const miss = [Mov.reg(R1, R6), ...(options.onMiss ?? []), v ? Mov.imm32(R0, v.reject) : Mov.imm(R0, 0), exit()];
  return [Mov.reg(R7, R0).withSymbol(filter.resultLabel), JEq.imm(R7, 0, slotCount(match)), ...match, ...miss];
}

/** A socket filter: R1 = skb, length = skb->len, one `bpf_skb_load_bytes` copy. */
export function socketFilterProgram(
  cbpf: readonly CbpfInstruction[],
  options: FilterProgramOptions = {},
): FilterProgram {
  const filter = inline(cbpf, 'skb', options);
  const save = hooked(options) ? [Mov.reg(R6, R1)] : [];
  const instructions = [...save, LoadMem(R2, R1, SKB_LEN, 'u32'), ...filter.instructions, ...ending(filter, options)];
  return { kind: 'socket_filter', type: PROGRAM_TYPE.socket_filter, instructions, filter };
}

function direct(
  kind: ProgramKind,
  cbpf: readonly CbpfInstruction[],
  dataOff: number,
  endOff: number,
  options: FilterProgramOptions,
): FilterProgram {
  const filter = inline(cbpf, 'packet', options);
  const offset = options.offset ?? 0;
  const head = [
    ...(hooked(options) ? [Mov.reg(R6, R1)] : []),
    LoadMem(R2, R1, endOff, 'u32'),
    LoadMem(R1, R1, dataOff, 'u32'),
  ];
  if (offset > 0) {
    // Skip the first `offset` bytes; a packet shorter than that is rejected.
    head.push(Add.imm(R1, offset), JLE.reg(R1, R2, 2), Mov.imm(R0, 0), Ja(filter.resultLabel));
  }
  const instructions = [...head, ...filter.instructions, ...ending(filter, options)];
  return { kind, type: PROGRAM_TYPE[kind], instructions, filter };
}

/** A tc classifier (`sched_cls`) with direct packet access. */
export function tcProgram(cbpf: readonly CbpfInstruction[], options: FilterProgramOptions = {}): FilterProgram {
  return direct('sched_cls', cbpf, SKB_DATA, SKB_DATA_END, options);
}

/** An XDP program with direct packet access. */
export function xdpProgram(cbpf: readonly CbpfInstruction[], options: FilterProgramOptions = {}): FilterProgram {
  return direct('xdp', cbpf, XDP_DATA, XDP_DATA_END, options);
}
