/** Operator spellings of LLVM's BPF assembly syntax, shared by the printer and the parser. */
import { AluOp, AtomicOp, JumpOp } from '../opcode.js';

/** Compound-assignment operator of each two-operand ALU operation (`r1 += r2`). */
export const ALU_OPERATORS: ReadonlyMap<number, string> = new Map([
  [AluOp.ADD, '+='],
  [AluOp.SUB, '-='],
  [AluOp.MUL, '*='],
  [AluOp.DIV, '/='],
  [AluOp.OR, '|='],
  [AluOp.AND, '&='],
  [AluOp.LSH, '<<='],
  [AluOp.RSH, '>>='],
  [AluOp.MOD, '%='],
  [AluOp.XOR, '^='],
  [AluOp.ARSH, 's>>='],
]);

/** Comparison operator of each conditional jump (`if r1 s< r2 goto +1`). */
export const JUMP_OPERATORS: ReadonlyMap<number, string> = new Map([
  [JumpOp.JEQ, '=='],
  [JumpOp.JGT, '>'],
  [JumpOp.JGE, '>='],
  [JumpOp.JSET, '&'],
  [JumpOp.JNE, '!='],
  [JumpOp.JSGT, 's>'],
  [JumpOp.JSGE, 's>='],
  [JumpOp.JLT, '<'],
  [JumpOp.JLE, '<='],
  [JumpOp.JSLT, 's<'],
  [JumpOp.JSLE, 's<='],
]);

/** Operator of each non-fetching atomic (`lock *(u64 *)(r1 + 0) += r2`). */
export const ATOMIC_OPERATORS: ReadonlyMap<number, string> = new Map([
  [AtomicOp.ADD, '+='],
  [AtomicOp.OR, '|='],
  [AtomicOp.AND, '&='],
  [AtomicOp.XOR, '^='],
]);

/** Function name of each fetching atomic (`r0 = atomic_fetch_add((u64 *)(r1 + 0), r0)`). */
export const ATOMIC_FETCH_NAMES: ReadonlyMap<number, string> = new Map([
  [AtomicOp.ADD | AtomicOp.FETCH, 'atomic_fetch_add'],
  [AtomicOp.OR | AtomicOp.FETCH, 'atomic_fetch_or'],
  [AtomicOp.AND | AtomicOp.FETCH, 'atomic_fetch_and'],
  [AtomicOp.XOR | AtomicOp.FETCH, 'atomic_fetch_xor'],
]);

/** C type of each load/store size code (`u8`...), indexed by `Size`. */
export const SIZE_NAMES: ReadonlyMap<number, 'u8' | 'u16' | 'u32' | 'u64'> = new Map([
  [0x10, 'u8'],
  [0x08, 'u16'],
  [0x00, 'u32'],
  [0x18, 'u64'],
]);
