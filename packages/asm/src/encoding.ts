import { DecodeError, EncodeError } from './errors.js';
import { Instruction } from './instruction.js';
import { LD_IMM64 } from './opcode.js';
import type { Register } from './register.js';
import { checkInstruction, checkSecondSlot } from './validate.js';

/** Byte order of an encoded program: `little` for bpfel (x86, arm64), `big` for bpfeb (s390x). */
export type ByteOrder = 'little' | 'big';

/** Options of {@link encode} and {@link decode}. */
export interface EncodingOptions {
  /** Byte order; default `little`. */
  readonly endian?: ByteOrder;
}

/** Size of one instruction slot in bytes. */
export const INSTRUCTION_SIZE = 8;

function isInt(v: number, min: number, max: number): boolean {
  return Number.isInteger(v) && v >= min && v <= max;
}

/**
 * Encode instructions to bytes (`struct bpf_insn` array). Every instruction is validated like
 * {@link decode} validates bytes; a bad one throws {@link EncodeError} naming its slot index.
 * References must already be resolved ({@link link}); unresolved ones encode their current fields.
 */
export function encode(insns: readonly Instruction[], options: EncodingOptions = {}): Uint8Array {
  const big = options.endian === 'big';
  let slots = 0;
  for (let i = 0; i < insns.length; i++) slots += insns[i]!.opcode === LD_IMM64 ? 2 : 1;
  const out = new Uint8Array(slots * INSTRUCTION_SIZE);
  let slot = 0;
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i]!;
    const { opcode, dst, src, offset, imm } = insn;
    if (!isInt(opcode, 0, 255)) throw new EncodeError(slot, 'range', `opcode ${opcode} is not a byte`);
    if (!isInt(dst, 0, 10))
      throw new EncodeError(slot, 'register', `destination register ${dst} does not exist (r0-r10)`);
    if (!isInt(src, 0, 15)) throw new EncodeError(slot, 'register', `source register ${src} does not fit 4 bits`);
    if (!isInt(offset, -0x8000, 0x7fff))
      throw new EncodeError(slot, 'range', `offset ${offset} does not fit 16 signed bits`);
    if (!isInt(imm, -0x80000000, 0x7fffffff))
      throw new EncodeError(slot, 'range', `imm ${imm} does not fit 32 signed bits`);
    const p = checkInstruction(opcode, dst, src, offset, imm);
    if (p !== undefined) throw new EncodeError(slot, p.kind, p.detail);
    const o = slot * INSTRUCTION_SIZE;
    writeSlot(out, o, opcode, big ? (dst << 4) | src : (src << 4) | dst, offset, imm, big);
    if (opcode === LD_IMM64) writeSlot(out, o + 8, 0, 0, 0, insn.immHigh, big);
    slot += opcode === LD_IMM64 ? 2 : 1;
  }
  return out;
}

function writeSlot(
  out: Uint8Array,
  o: number,
  opcode: number,
  regs: number,
  offset: number,
  imm: number,
  big: boolean,
): void {
  out[o] = opcode;
  out[o + 1] = regs;
  if (big) {
    out[o + 2] = offset >> 8;
    out[o + 3] = offset;
    out[o + 4] = imm >>> 24;
    out[o + 5] = imm >>> 16;
    out[o + 6] = imm >>> 8;
    out[o + 7] = imm;
  } else {
    out[o + 2] = offset;
    out[o + 3] = offset >> 8;
    out[o + 4] = imm;
    out[o + 5] = imm >>> 8;
    out[o + 6] = imm >>> 16;
    out[o + 7] = imm >>> 24;
  }
}

/**
 * Decode bytes into instructions (one {@link Instruction} per logical instruction; LD_IMM64
 * consumes two slots). Throws {@link DecodeError} naming the slot index for a misaligned length,
 * unknown opcode, register above r10, reserved field set, or truncated LD_IMM64; it never throws
 * anything else on arbitrary bytes.
 */
export function decode(bytes: Uint8Array, options: EncodingOptions = {}): Instruction[] {
  const big = options.endian === 'big';
  if (bytes.length % INSTRUCTION_SIZE !== 0) {
    throw new DecodeError(
      Math.floor(bytes.length / INSTRUCTION_SIZE),
      'misaligned',
      `byte length ${bytes.length} is not a multiple of ${INSTRUCTION_SIZE}`,
    );
  }
  const n = bytes.length / INSTRUCTION_SIZE;
  const out: Instruction[] = [];
  for (let slot = 0; slot < n; slot++) {
    const o = slot * INSTRUCTION_SIZE;
    const opcode = bytes[o]!;
    const regs = bytes[o + 1]!;
    const dst = big ? regs >> 4 : regs & 0x0f;
    const src = big ? regs & 0x0f : regs >> 4;
    const offset = readOffset(bytes, o, big);
    const imm = readImm(bytes, o + 4, big);
    const p = checkInstruction(opcode, dst, src, offset, imm);
    if (p !== undefined) throw new DecodeError(slot, p.kind, p.detail);
    if (opcode === LD_IMM64) {
      if (slot + 1 >= n) throw new DecodeError(slot, 'truncated', 'LD_IMM64 is missing its second slot');
      const o2 = o + INSTRUCTION_SIZE;
      const p2 = checkSecondSlot(bytes[o2]!, bytes[o2 + 1]!, readOffset(bytes, o2, big));
      if (p2 !== undefined) throw new DecodeError(slot + 1, p2.kind, p2.detail);
      const hi = readImm(bytes, o2 + 4, big);
      const constant = (BigInt(hi) << 32n) | BigInt(imm >>> 0);
      out.push(new Instruction(opcode, dst as Register, src as Register, offset, imm, constant));
      slot++;
    } else {
      out.push(new Instruction(opcode, dst as Register, src as Register, offset, imm));
    }
  }
  return out;
}

function readOffset(b: Uint8Array, o: number, big: boolean): number {
  const v = big ? (b[o + 2]! << 8) | b[o + 3]! : b[o + 2]! | (b[o + 3]! << 8);
  return (v << 16) >> 16;
}

function readImm(b: Uint8Array, o: number, big: boolean): number {
  return big
    ? (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!
    : b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24);
}
