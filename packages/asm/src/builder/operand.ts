import { BuilderError } from '../errors.js';
import { Size } from '../opcode.js';
import { isRegister, type Register } from '../register.js';

/** Memory access width as written in C and in LLVM's syntax. */
export type MemSize = 'u8' | 'u16' | 'u32' | 'u64';

/** Where a jump goes: a label resolved by `link`, or a raw relative offset in slots. */
export type JumpTarget = string | number;

const SIZES: Record<MemSize, Size> = { u8: Size.B, u16: Size.H, u32: Size.W, u64: Size.DW };

/** The opcode {@link Size} of a {@link MemSize}. */
export function sizeCode(size: MemSize): Size {
  const code = SIZES[size];
  if (code === undefined) throw new BuilderError(`unknown access size '${String(size)}' (u8, u16, u32, u64)`);
  return code;
}

/** Validate a register argument. */
export function reg(r: number, what = 'register'): Register {
  if (!isRegister(r)) throw new BuilderError(`${what} ${String(r)} is not a register (r0-r10)`);
  return r;
}

/** Validate and normalize a 32-bit immediate: accepts signed or unsigned 32-bit integers. */
export function imm32(v: number, what = 'immediate'): number {
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff) {
    throw new BuilderError(`${what} ${String(v)} does not fit 32 bits`);
  }
  return v | 0;
}

/** Validate a signed 16-bit offset. */
export function off16(v: number, what = 'offset'): number {
  if (!Number.isInteger(v) || v < -0x8000 || v > 0x7fff)
    throw new BuilderError(`${what} ${String(v)} does not fit 16 signed bits`);
  return v;
}
