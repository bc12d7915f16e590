import { BuilderError } from '../errors.js';
import { Instruction } from '../instruction.js';
import { AtomicOp, Class, Mode, Size } from '../opcode.js';
import type { Register } from '../register.js';
import { imm32, off16, reg, sizeCode, type MemSize } from './operand.js';

/** `dst = *(size *)(src + offset)`: zero-extending load. */
export function LoadMem(dst: Register, src: Register, offset: number, size: MemSize): Instruction {
  return new Instruction(
    Class.LDX | Mode.MEM | sizeCode(size),
    reg(dst),
    reg(src, 'source register'),
    off16(offset),
    0,
  );
}

/** `dst = *(sN *)(src + offset)`: sign-extending load of 1, 2 or 4 bytes (cpu v4). */
export function LoadMemSX(dst: Register, src: Register, offset: number, size: Exclude<MemSize, 'u64'>): Instruction {
  if (size === ('u64' as MemSize)) throw new BuilderError('sign-extending load of u64 does not exist');
  return new Instruction(
    Class.LDX | Mode.MEMSX | sizeCode(size),
    reg(dst),
    reg(src, 'source register'),
    off16(offset),
    0,
  );
}

/** `*(size *)(dst + offset) = src`: store a register. */
export function StoreMem(dst: Register, offset: number, src: Register, size: MemSize): Instruction {
  return new Instruction(
    Class.STX | Mode.MEM | sizeCode(size),
    reg(dst),
    reg(src, 'source register'),
    off16(offset),
    0,
  );
}

/** `*(size *)(dst + offset) = value`: store a 32-bit immediate (sign-extended for u64). */
export function StoreImm(dst: Register, offset: number, value: number, size: MemSize): Instruction {
  return new Instruction(Class.ST | Mode.MEM | sizeCode(size), reg(dst), 0, off16(offset), imm32(value));
}

/** Legacy packet load `r0 = ntoh(*(size *)skb[offset])` (socket filters; clobbers R1-R5). */
export function LoadAbs(offset: number, size: Exclude<MemSize, 'u64'>): Instruction {
  if (size === ('u64' as MemSize)) throw new BuilderError('LD_ABS of u64 does not exist');
  return new Instruction(Class.LD | Mode.ABS | sizeCode(size), 0, 0, 0, imm32(offset));
}

/** Legacy packet load `r0 = ntoh(*(size *)skb[src + offset])` (socket filters; clobbers R1-R5). */
export function LoadInd(src: Register, offset: number, size: Exclude<MemSize, 'u64'>): Instruction {
  if (size === ('u64' as MemSize)) throw new BuilderError('LD_IND of u64 does not exist');
  return new Instruction(Class.LD | Mode.IND | sizeCode(size), 0, reg(src, 'source register'), 0, imm32(offset));
}

/** Width of an atomic operation. */
export type AtomicSize = 'u32' | 'u64';

function atomic(op: number) {
  return (dst: Register, offset: number, src: Register, size: AtomicSize): Instruction => {
    if (size !== 'u32' && size !== 'u64') throw new BuilderError(`atomic size '${String(size)}' is not u32 or u64`);
    return new Instruction(
      Class.STX | Mode.ATOMIC | (size === 'u64' ? Size.DW : Size.W),
      reg(dst),
      reg(src, 'source register'),
      off16(offset),
      op,
    );
  };
}

/**
 * Atomic read-modify-write on `*(size *)(dst + offset)` with `src`. The `fetch*` forms and
 * `xchg` put the old value in `src`; `cmpxchg` compares with R0 and puts the old value in R0.
 * `loadAcquire`/`storeRelease` are ordered loads and stores of any size.
 */
export const Atomic = {
  /** `lock *(size *)(dst + off) += src` */
  add: atomic(AtomicOp.ADD),
  /** `lock *(size *)(dst + off) |= src` */
  or: atomic(AtomicOp.OR),
  /** `lock *(size *)(dst + off) &= src` */
  and: atomic(AtomicOp.AND),
  /** `lock *(size *)(dst + off) ^= src` */
  xor: atomic(AtomicOp.XOR),
  /** `src = atomic_fetch_add((size *)(dst + off), src)` */
  fetchAdd: atomic(AtomicOp.ADD | AtomicOp.FETCH),
  /** `src = atomic_fetch_or((size *)(dst + off), src)` */
  fetchOr: atomic(AtomicOp.OR | AtomicOp.FETCH),
  /** `src = atomic_fetch_and((size *)(dst + off), src)` */
  fetchAnd: atomic(AtomicOp.AND | AtomicOp.FETCH),
  /** `src = atomic_fetch_xor((size *)(dst + off), src)` */
  fetchXor: atomic(AtomicOp.XOR | AtomicOp.FETCH),
  /** `src = xchg((size *)(dst + off), src)` */
  xchg: atomic(AtomicOp.XCHG),
  /** `r0 = cmpxchg((size *)(dst + off), r0, src)` */
  cmpxchg: atomic(AtomicOp.CMPXCHG),
  /** `dst = load_acquire((size *)(src + off))`: a load no later access moves before (kernel 6.15+). */
  loadAcquire(dst: Register, src: Register, offset: number, size: MemSize): Instruction {
    return new Instruction(
      Class.STX | Mode.ATOMIC | sizeCode(size),
      reg(dst),
      reg(src, 'source register'),
      off16(offset),
      AtomicOp.LOAD_ACQ,
    );
  },
  /** `store_release((size *)(dst + off), src)`: a store no earlier access moves after (kernel 6.15+). */
  storeRelease(dst: Register, offset: number, src: Register, size: MemSize): Instruction {
    return new Instruction(
      Class.STX | Mode.ATOMIC | sizeCode(size),
      reg(dst),
      reg(src, 'source register'),
      off16(offset),
      AtomicOp.STORE_REL,
    );
  },
} as const;
