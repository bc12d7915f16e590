/**
 * The classic BPF instruction (`struct sock_filter` / libpcap's `struct bpf_insn`) and builders.
 *
 * `jt`/`jf` are RELATIVE, as in the kernel ABI: a conditional jump at index `i` continues at
 * `i + 1 + jt` when true and `i + 1 + jf` when false; `ja` continues at `i + 1 + k`.
 */
import {
  BPF_A,
  BPF_ABS,
  BPF_ALU,
  BPF_B,
  BPF_H,
  BPF_IMM,
  BPF_IND,
  BPF_JA,
  BPF_JMP,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_LEN,
  BPF_MEM,
  BPF_MISC,
  BPF_MSH,
  BPF_NEG,
  BPF_RET,
  BPF_ST,
  BPF_STX,
  BPF_TAX,
  BPF_TXA,
  BPF_W,
  BPF_X,
} from './opcode.js';

/** One classic BPF instruction; `jt`/`jf` are relative (0..255), `k` is an unsigned 32-bit value. */
export interface CbpfInstruction {
  /** 16-bit opcode (class | size/op | mode/src). */
  code: number;
  /** Relative true target of a conditional jump. */
  jt: number;
  /** Relative false target of a conditional jump. */
  jf: number;
  /** Generic operand, unsigned 32-bit. */
  k: number;
}

/** Load sizes by name. */
export type LoadSize = 'W' | 'H' | 'B';
const SIZE: Record<LoadSize, number> = { W: BPF_W, H: BPF_H, B: BPF_B };

/** A non-jump instruction (`BPF_STMT`). */
export function stmt(code: number, k = 0): CbpfInstruction {
  return { code, jt: 0, jf: 0, k: k >>> 0 };
}

/** A jump instruction (`BPF_JUMP`), relative targets. */
export function jump(code: number, k: number, jt: number, jf: number): CbpfInstruction {
  return { code, jt, jf, k: k >>> 0 };
}

/** `ld/ldh/ldb [k]`. */
export const ldAbs = (size: LoadSize, k: number): CbpfInstruction => stmt(BPF_LD | SIZE[size] | BPF_ABS, k);
/** `ld/ldh/ldb [x + k]`. */
export const ldInd = (size: LoadSize, k: number): CbpfInstruction => stmt(BPF_LD | SIZE[size] | BPF_IND, k);
/** `ld #k`. */
export const ldImm = (k: number): CbpfInstruction => stmt(BPF_LD | BPF_W | BPF_IMM, k);
/** `ldx #k`. */
export const ldxImm = (k: number): CbpfInstruction => stmt(BPF_LDX | BPF_W | BPF_IMM, k);
/** `ld #pktlen`. */
export const ldLen = (): CbpfInstruction => stmt(BPF_LD | BPF_W | BPF_LEN);
/** `ldxb 4*([k]&0xf)`. */
export const ldxMsh = (k: number): CbpfInstruction => stmt(BPF_LDX | BPF_B | BPF_MSH, k);
/** `ld M[k]`. */
export const ldMem = (k: number): CbpfInstruction => stmt(BPF_LD | BPF_MEM, k);
/** `ldx M[k]`. */
export const ldxMem = (k: number): CbpfInstruction => stmt(BPF_LDX | BPF_MEM, k);
/** `st M[k]`. */
export const st = (k: number): CbpfInstruction => stmt(BPF_ST, k);
/** `stx M[k]`. */
export const stx = (k: number): CbpfInstruction => stmt(BPF_STX, k);
/** ALU with constant: `op #k` (op is BPF_ADD, BPF_SUB, ...). */
export const aluK = (op: number, k: number): CbpfInstruction => stmt(BPF_ALU | op | BPF_K, k);
/** ALU with X: `op x`. */
export const aluX = (op: number): CbpfInstruction => stmt(BPF_ALU | op | BPF_X);
/** `neg`. */
export const negA = (): CbpfInstruction => stmt(BPF_ALU | BPF_NEG);
/** `ja +k`. */
export const ja = (k: number): CbpfInstruction => stmt(BPF_JMP | BPF_JA, k);
/** Conditional jump against a constant: `jeq #k, jt, jf` (op is BPF_JEQ, BPF_JGT, ...). */
export const jmpK = (op: number, k: number, jt: number, jf: number): CbpfInstruction =>
  jump(BPF_JMP | op | BPF_K, k, jt, jf);
/** Conditional jump against X. */
export const jmpX = (op: number, jt: number, jf: number): CbpfInstruction => jump(BPF_JMP | op | BPF_X, 0, jt, jf);
/** `ret #k`. */
export const retK = (k: number): CbpfInstruction => stmt(BPF_RET | BPF_K, k);
/** `ret a`. */
export const retA = (): CbpfInstruction => stmt(BPF_RET | BPF_A);
/** `tax`. */
export const tax = (): CbpfInstruction => stmt(BPF_MISC | BPF_TAX);
/** `txa`. */
export const txa = (): CbpfInstruction => stmt(BPF_MISC | BPF_TXA);

/** Builds instructions from tcpdump `-ddd` style tuples `[code, jt, jf, k]`. */
export function fromTuples(
  tuples: ReadonlyArray<readonly [number, number, number, number] | number[]>,
): CbpfInstruction[] {
  return tuples.map((t) => ({ code: t[0]!, jt: t[1]!, jf: t[2]!, k: t[3]! >>> 0 }));
}

/** Converts instructions to `[code, jt, jf, k]` tuples (tcpdump `-ddd` order). */
export function toTuples(program: readonly CbpfInstruction[]): [number, number, number, number][] {
  return program.map((i) => [i.code, i.jt, i.jf, i.k >>> 0]);
}

/** True when two instructions are identical field for field. */
export function sameInstruction(a: CbpfInstruction, b: CbpfInstruction): boolean {
  return a.code === b.code && a.jt === b.jt && a.jf === b.jf && a.k >>> 0 === b.k >>> 0;
}
