import { BuilderError } from '../errors.js';
import { Instruction } from '../instruction.js';
import { Class, JumpOp, Source } from '../opcode.js';
import type { Register } from '../register.js';
import { imm32, off16, reg, type JumpTarget } from './operand.js';

/** Builders of one conditional jump in its four forms. `target` is a label or a relative offset. */
export interface JumpOperation {
  /** The operation bits. */
  readonly op: JumpOp;
  /** `if dst op imm goto target` (64-bit compare). */
  imm(dst: Register, value: number, target: JumpTarget): Instruction;
  /** `if dst op src goto target` (64-bit compare). */
  reg(dst: Register, src: Register, target: JumpTarget): Instruction;
  /** `if wdst op imm goto target` (32-bit compare, cpu v3). */
  imm32(dst: Register, value: number, target: JumpTarget): Instruction;
  /** `if wdst op wsrc goto target` (32-bit compare, cpu v3). */
  reg32(dst: Register, src: Register, target: JumpTarget): Instruction;
}

/** Build a jump-class instruction whose 16-bit offset is `target` (a number or a label to link). */
function withTarget(opcode: number, dst: Register, src: Register, imm: number, target: JumpTarget): Instruction {
  if (typeof target === 'string') {
    if (target === '') throw new BuilderError('jump target label is empty');
    return new Instruction(opcode, dst, src, 0, imm, undefined, { reference: target });
  }
  return new Instruction(opcode, dst, src, off16(target, 'jump offset'), imm);
}

function operation(op: JumpOp): JumpOperation {
  return {
    op,
    imm: (dst, value, target) => withTarget(Class.JMP | op | Source.K, reg(dst), 0, imm32(value), target),
    reg: (dst, src, target) => withTarget(Class.JMP | op | Source.X, reg(dst), reg(src, 'source register'), 0, target),
    imm32: (dst, value, target) => withTarget(Class.JMP32 | op | Source.K, reg(dst), 0, imm32(value), target),
    reg32: (dst, src, target) =>
      withTarget(Class.JMP32 | op | Source.X, reg(dst), reg(src, 'source register'), 0, target),
  };
}

/** `if dst == src goto target` */
export const JEq = operation(JumpOp.JEQ);
/** `if dst != src goto target` */
export const JNE = operation(JumpOp.JNE);
/** Unsigned `if dst > src goto target` */
export const JGT = operation(JumpOp.JGT);
/** Unsigned `if dst >= src goto target` */
export const JGE = operation(JumpOp.JGE);
/** Unsigned `if dst < src goto target` (cpu v2) */
export const JLT = operation(JumpOp.JLT);
/** Unsigned `if dst <= src goto target` (cpu v2) */
export const JLE = operation(JumpOp.JLE);
/** Signed `if dst s> src goto target` */
export const JSGT = operation(JumpOp.JSGT);
/** Signed `if dst s>= src goto target` */
export const JSGE = operation(JumpOp.JSGE);
/** Signed `if dst s< src goto target` (cpu v2) */
export const JSLT = operation(JumpOp.JSLT);
/** Signed `if dst s<= src goto target` (cpu v2) */
export const JSLE = operation(JumpOp.JSLE);
/** `if dst & src goto target` */
export const JSet = operation(JumpOp.JSET);

/** Unconditional `goto target` (16-bit offset). */
export function Ja(target: JumpTarget): Instruction {
  return withTarget(Class.JMP | JumpOp.JA, 0, 0, 0, target);
}

/** Unconditional `gotol target` with a 32-bit offset in imm (cpu v4). */
export function Ja32(target: JumpTarget): Instruction {
  if (typeof target === 'string') {
    if (target === '') throw new BuilderError('jump target label is empty');
    return new Instruction(Class.JMP32 | JumpOp.JA, 0, 0, 0, 0, undefined, { reference: target });
  }
  return new Instruction(Class.JMP32 | JumpOp.JA, 0, 0, 0, imm32(target, 'jump offset'));
}

/** `may_goto target`: the verifier-bounded loop escape (kernel 6.9+). */
export function mayGoto(target: JumpTarget): Instruction {
  return withTarget(Class.JMP | JumpOp.JCOND, 0, 0, 0, target);
}
