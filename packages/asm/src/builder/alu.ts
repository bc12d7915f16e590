import { BuilderError } from '../errors.js';
import { Instruction } from '../instruction.js';
import { AluOp, Class, Endian, Source } from '../opcode.js';
import type { Register } from '../register.js';
import { imm32, reg } from './operand.js';

/** Builders of one arithmetic operation in its four forms. */
export interface AluOperation {
  /** The operation bits. */
  readonly op: AluOp;
  /** 64-bit `dst op= imm` (ALU64, K). */
  imm(dst: Register, value: number): Instruction;
  /** 64-bit `dst op= src` (ALU64, X). */
  reg(dst: Register, src: Register): Instruction;
  /** 32-bit `wdst op= imm` (ALU, K); the upper half of dst is zeroed. */
  imm32(dst: Register, value: number): Instruction;
  /** 32-bit `wdst op= wsrc` (ALU, X). */
  reg32(dst: Register, src: Register): Instruction;
}

function operation(op: AluOp, offset = 0): AluOperation {
  return {
    op,
    imm: (dst, value) => new Instruction(Class.ALU64 | op | Source.K, reg(dst), 0, offset, imm32(value)),
    reg: (dst, src) => new Instruction(Class.ALU64 | op | Source.X, reg(dst), reg(src, 'source register'), offset, 0),
    imm32: (dst, value) => new Instruction(Class.ALU | op | Source.K, reg(dst), 0, offset, imm32(value)),
    reg32: (dst, src) => new Instruction(Class.ALU | op | Source.X, reg(dst), reg(src, 'source register'), offset, 0),
  };
}

/** `dst += src` */
export const Add = operation(AluOp.ADD);
/** `dst -= src` */
export const Sub = operation(AluOp.SUB);
/** `dst *= src` */
export const Mul = operation(AluOp.MUL);
/** Unsigned `dst /= src` (division by zero yields 0). */
export const Div = operation(AluOp.DIV);
/** Signed `dst s/= src` (cpu v4). */
export const SDiv = operation(AluOp.DIV, 1);
/** Unsigned `dst %= src` (modulo zero leaves dst). */
export const Mod = operation(AluOp.MOD);
/** Signed `dst s%= src` (cpu v4). */
export const SMod = operation(AluOp.MOD, 1);
/** `dst |= src` */
export const Or = operation(AluOp.OR);
/** `dst &= src` */
export const And = operation(AluOp.AND);
/** `dst <<= src` */
export const LSh = operation(AluOp.LSH);
/** Logical `dst >>= src` */
export const RSh = operation(AluOp.RSH);
/** Arithmetic `dst s>>= src` */
export const ArSh = operation(AluOp.ARSH);
/** `dst ^= src` */
export const Xor = operation(AluOp.XOR);
/** `dst = src` */
export const Mov = operation(AluOp.MOV);

/** Sign-extending moves (cpu v4): `r1 = (s8)r2`, `w1 = (s16)w2`. */
export const MovSX = {
  /** 64-bit `dst = (sN)src` for N = 8, 16 or 32. */
  reg(dst: Register, src: Register, bits: 8 | 16 | 32): Instruction {
    if (bits !== 8 && bits !== 16 && bits !== 32)
      throw new BuilderError(`movsx width ${String(bits)} is not 8, 16 or 32`);
    return new Instruction(Class.ALU64 | AluOp.MOV | Source.X, reg(dst), reg(src, 'source register'), bits, 0);
  },
  /** 32-bit `wdst = (sN)wsrc` for N = 8 or 16. */
  reg32(dst: Register, src: Register, bits: 8 | 16): Instruction {
    if (bits !== 8 && bits !== 16) throw new BuilderError(`32-bit movsx width ${String(bits)} is not 8 or 16`);
    return new Instruction(Class.ALU | AluOp.MOV | Source.X, reg(dst), reg(src, 'source register'), bits, 0);
  },
};

/** 64-bit `dst = -dst`. */
export function neg(dst: Register): Instruction {
  return new Instruction(Class.ALU64 | AluOp.NEG, reg(dst), 0, 0, 0);
}

/** 32-bit `wdst = -wdst`. */
export function neg32(dst: Register): Instruction {
  return new Instruction(Class.ALU | AluOp.NEG, reg(dst), 0, 0, 0);
}

function swapWidth(bits: number): 16 | 32 | 64 {
  if (bits !== 16 && bits !== 32 && bits !== 64)
    throw new BuilderError(`byte swap width ${String(bits)} is not 16, 32 or 64`);
  return bits;
}

/** `dst = be16/32/64 dst`: convert between host order and big-endian (network order on x86). */
export function toBE(dst: Register, bits: 16 | 32 | 64): Instruction {
  return new Instruction(Class.ALU | AluOp.END | Endian.TO_BE, reg(dst), 0, 0, swapWidth(bits));
}

/** `dst = le16/32/64 dst`: convert between host order and little-endian. */
export function toLE(dst: Register, bits: 16 | 32 | 64): Instruction {
  return new Instruction(Class.ALU | AluOp.END | Endian.TO_LE, reg(dst), 0, 0, swapWidth(bits));
}

/** `dst = bswap16/32/64 dst`: unconditional byte swap (cpu v4). */
export function bswap(dst: Register, bits: 16 | 32 | 64): Instruction {
  return new Instruction(Class.ALU64 | AluOp.END, reg(dst), 0, 0, swapWidth(bits));
}

/** `dst = addr_space_cast(src, dstAs, srcAs)`: arena pointer conversion (kernel 6.9+). */
export function addrSpaceCast(
  dst: Register,
  src: Register,
  dstAddressSpace: number,
  srcAddressSpace: number,
): Instruction {
  for (const as of [dstAddressSpace, srcAddressSpace]) {
    if (!Number.isInteger(as) || as < 0 || as > 0xffff)
      throw new BuilderError(`address space ${String(as)} does not fit 16 bits`);
  }
  return new Instruction(
    Class.ALU64 | AluOp.MOV | Source.X,
    reg(dst),
    reg(src, 'source register'),
    1,
    (dstAddressSpace << 16) | srcAddressSpace | 0,
  );
}
