/**
 * Classic BPF opcode fields (`linux/filter.h`, libpcap's `pcap/bpf.h`).
 *
 * A cBPF `code` is 16 bits: the low 3 bits are the instruction class, the rest depends on the
 * class (size and addressing mode for loads, operation and operand source for ALU and jumps).
 */

/** Instruction classes (`code & 0x07`). */
export const BPF_LD = 0x00;
/** Load into X. */
export const BPF_LDX = 0x01;
/** Store A into scratch memory. */
export const BPF_ST = 0x02;
/** Store X into scratch memory. */
export const BPF_STX = 0x03;
/** Arithmetic on A. */
export const BPF_ALU = 0x04;
/** Jumps. */
export const BPF_JMP = 0x05;
/** Return. */
export const BPF_RET = 0x06;
/** Register transfers (tax/txa). */
export const BPF_MISC = 0x07;

/** Load sizes (`code & 0x18`): 32-bit word. */
export const BPF_W = 0x00;
/** 16-bit half word. */
export const BPF_H = 0x08;
/** 8-bit byte. */
export const BPF_B = 0x10;

/** Addressing modes (`code & 0xe0`): immediate `#k`. */
export const BPF_IMM = 0x00;
/** Absolute packet offset `[k]`. */
export const BPF_ABS = 0x20;
/** Indirect packet offset `[x + k]`. */
export const BPF_IND = 0x40;
/** Scratch memory `M[k]`. */
export const BPF_MEM = 0x60;
/** Packet length `#pktlen`. */
export const BPF_LEN = 0x80;
/** IP header length helper `4*([k]&0xf)` (ldxb only). */
export const BPF_MSH = 0xa0;

/** ALU/jump operations (`code & 0xf0`). */
export const BPF_ADD = 0x00;
/** Subtract. */
export const BPF_SUB = 0x10;
/** Multiply. */
export const BPF_MUL = 0x20;
/** Unsigned divide (by zero: the filter returns 0). */
export const BPF_DIV = 0x30;
/** Bitwise or. */
export const BPF_OR = 0x40;
/** Bitwise and. */
export const BPF_AND = 0x50;
/** Left shift. */
export const BPF_LSH = 0x60;
/** Logical right shift. */
export const BPF_RSH = 0x70;
/** Two's complement negation of A. */
export const BPF_NEG = 0x80;
/** Unsigned modulus (by zero: the filter returns 0). */
export const BPF_MOD = 0x90;
/** Bitwise exclusive or. */
export const BPF_XOR = 0xa0;

/** Jump always (`k` is the offset). */
export const BPF_JA = 0x00;
/** Jump if A == operand. */
export const BPF_JEQ = 0x10;
/** Jump if A > operand (unsigned). */
export const BPF_JGT = 0x20;
/** Jump if A >= operand (unsigned). */
export const BPF_JGE = 0x30;
/** Jump if A & operand != 0. */
export const BPF_JSET = 0x40;

/** Operand source (`code & 0x08`): the constant `k`. */
export const BPF_K = 0x00;
/** The X register. */
export const BPF_X = 0x08;
/** Return source: A (`ret a`), `code & 0x18` of a RET. */
export const BPF_A = 0x10;

/** MISC operations (`code & 0xf8`): X = A. */
export const BPF_TAX = 0x00;
/** A = X. */
export const BPF_TXA = 0x80;

/** Number of scratch memory words M[0..15]. */
export const BPF_MEMWORDS = 16;
/** Largest program the kernel accepts. */
export const BPF_MAXINSNS = 4096;

/** Base of Linux ancillary-data pseudo offsets (`SKF_AD_OFF`, -0x1000 as u32). */
export const SKF_AD_OFF = 0xfffff000;

/** Class of an opcode. */
export const bpfClass = (code: number): number => code & 0x07;
/** Size field of a load opcode. */
export const bpfSize = (code: number): number => code & 0x18;
/** Mode field of a load opcode. */
export const bpfMode = (code: number): number => code & 0xe0;
/** Operation field of an ALU or jump opcode. */
export const bpfOp = (code: number): number => code & 0xf0;
/** Source field of an ALU or jump opcode. */
export const bpfSrc = (code: number): number => code & 0x08;
/** Return-value source of a RET opcode (`BPF_K`, `BPF_X` or `BPF_A`). */
export const bpfRval = (code: number): number => code & 0x18;
/** MISC operation of a MISC opcode. */
export const bpfMiscOp = (code: number): number => code & 0xf8;

/** Bytes a load of this size reads (W=4, H=2, B=1); 0 for an invalid size. */
export function loadWidth(code: number): number {
  switch (bpfSize(code)) {
    case BPF_W:
      return 4;
    case BPF_H:
      return 2;
    case BPF_B:
      return 1;
    default:
      return 0;
  }
}

/** True for a packet load (`ld/ldh/ldb [k]`, `[x + k]`, or `ldxb 4*([k]&0xf)`). */
export function isPacketLoad(code: number): boolean {
  const cls = bpfClass(code);
  if (cls === BPF_LD) return bpfMode(code) === BPF_ABS || bpfMode(code) === BPF_IND;
  return cls === BPF_LDX && bpfMode(code) === BPF_MSH;
}

/** True for a conditional jump (jeq/jgt/jge/jset, k or x). */
export function isConditionalJump(code: number): boolean {
  return bpfClass(code) === BPF_JMP && bpfOp(code) !== BPF_JA;
}
