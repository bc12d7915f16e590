/** Packet loads and comparisons relative to the current header offsets (`gen_load_a`, `gen_ncmp`, ...). */
import {
  BPF_ABS,
  BPF_ADD,
  BPF_ALU,
  BPF_AND,
  BPF_B,
  BPF_H,
  BPF_IND,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_LSH,
  BPF_MEM,
  BPF_MISC,
  BPF_MSH,
  BPF_TAX,
  BPF_W,
  BPF_X,
} from '../cbpf/opcode.js';
import { type Block, genAnd, genNot, jmp, newBlock, newStmt, sappend, type Stmt } from './blocks.js';
import type { AbsOffset, CodegenState } from './state.js';

/** What an offset is relative to (libpcap's `enum e_offrel`). */
export type OffRel =
  | 'packet'
  | 'linkhdr'
  | 'prevlinkhdr'
  | 'llc'
  | 'prevmplshdr'
  | 'linkpl'
  | 'linkpl_nosnap'
  | 'linktype'
  | 'tran_ipv4'
  | 'tran_ipv6';

/** Load sizes as cBPF size bits. */
export const SIZE = { W: BPF_W, H: BPF_H, B: BPF_B } as const;

/** `ldx M[reg]` for a variable offset, allocating its register on first use; undefined if constant. */
export function absOffsetVarpart(cs: CodegenState, off: AbsOffset): Stmt | undefined {
  if (!off.isVariable) return undefined;
  if (off.reg === -1) off.reg = cs.allocReg();
  return newStmt(BPF_LDX | BPF_MEM, off.reg);
}

function loadAbsOffsetRel(cs: CodegenState, off: AbsOffset, offset: number, size: number): Stmt {
  const s = absOffsetVarpart(cs, off);
  if (s) {
    sappend(s, newStmt(BPF_LD | BPF_IND | size, off.constantPart + offset));
    return s;
  }
  return newStmt(BPF_LD | BPF_ABS | size, off.constantPart + offset);
}

/** Loads `size` bytes at `offset` relative to `offrel` into A. */
export function loadA(cs: CodegenState, offrel: OffRel, offset: number, size: number): Stmt {
  switch (offrel) {
    case 'packet':
      return newStmt(BPF_LD | BPF_ABS | size, offset);
    case 'linkhdr':
      return loadAbsOffsetRel(cs, cs.offLinkhdr, offset, size);
    case 'prevlinkhdr':
      return loadAbsOffsetRel(cs, cs.offPrevlinkhdr, offset, size);
    case 'llc':
      return loadAbsOffsetRel(cs, cs.offLinkpl, offset, size);
    case 'prevmplshdr':
      return loadAbsOffsetRel(cs, cs.offLinkpl, cs.offNl - 4 + offset, size);
    case 'linkpl':
      return loadAbsOffsetRel(cs, cs.offLinkpl, cs.offNl + offset, size);
    case 'linkpl_nosnap':
      return loadAbsOffsetRel(cs, cs.offLinkpl, cs.offNlNosnap + offset, size);
    case 'linktype':
      return loadAbsOffsetRel(cs, cs.offLinktype, offset, size);
    case 'tran_ipv4': {
      const s = loadxIphdrlen(cs);
      sappend(s, newStmt(BPF_LD | BPF_IND | size, cs.offLinkpl.constantPart + cs.offNl + offset));
      return s;
    }
    case 'tran_ipv6':
      return loadAbsOffsetRel(cs, cs.offLinkpl, cs.offNl + 40 + offset, size);
  }
}

/** X = IPv4 header length (plus the variable part of the link-layer payload offset). */
export function loadxIphdrlen(cs: CodegenState): Stmt {
  const s = absOffsetVarpart(cs, cs.offLinkpl);
  if (s) {
    sappend(s, newStmt(BPF_LD | BPF_IND | BPF_B, cs.offLinkpl.constantPart + cs.offNl));
    sappend(s, newStmt(BPF_ALU | BPF_AND | BPF_K, 0xf));
    sappend(s, newStmt(BPF_ALU | BPF_LSH | BPF_K, 2));
    sappend(s, newStmt(BPF_ALU | BPF_ADD | BPF_X));
    sappend(s, newStmt(BPF_MISC | BPF_TAX));
    return s;
  }
  return newStmt(BPF_LDX | BPF_MSH | BPF_B, cs.offLinkpl.constantPart + cs.offNl);
}

/** Load, optionally mask, compare (`gen_ncmp`); `reverse` negates only `jgt`/`jge`. */
export function ncmp(
  cs: CodegenState,
  offrel: OffRel,
  offset: number,
  size: number,
  mask: number,
  jtype: number,
  reverse: boolean,
  v: number,
): Block {
  const s = loadA(cs, offrel, offset, size);
  if (mask >>> 0 !== 0xffffffff) sappend(s, newStmt(BPF_ALU | BPF_AND | BPF_K, mask));
  const b = newBlock(jmp(jtype), v);
  b.stmts = s;
  if (reverse && (jtype === BPF_JGT || jtype === BPF_JGE)) genNot(b);
  return b;
}

/** `== v`. */
export const cmp = (cs: CodegenState, offrel: OffRel, offset: number, size: number, v: number): Block =>
  ncmp(cs, offrel, offset, size, 0xffffffff, BPF_JEQ, false, v);
/** `> v`. */
export const cmpGt = (cs: CodegenState, offrel: OffRel, offset: number, size: number, v: number): Block =>
  ncmp(cs, offrel, offset, size, 0xffffffff, BPF_JGT, false, v);
/** `>= v`. */
export const cmpGe = (cs: CodegenState, offrel: OffRel, offset: number, size: number, v: number): Block =>
  ncmp(cs, offrel, offset, size, 0xffffffff, BPF_JGE, false, v);
/** `< v` (negated `jge`). */
export const cmpLt = (cs: CodegenState, offrel: OffRel, offset: number, size: number, v: number): Block =>
  ncmp(cs, offrel, offset, size, 0xffffffff, BPF_JGE, true, v);
/** `<= v` (negated `jgt`). */
export const cmpLe = (cs: CodegenState, offrel: OffRel, offset: number, size: number, v: number): Block =>
  ncmp(cs, offrel, offset, size, 0xffffffff, BPF_JGT, true, v);
/** `(load & mask) == v`. */
export const mcmp = (cs: CodegenState, offrel: OffRel, offset: number, size: number, v: number, mask: number): Block =>
  ncmp(cs, offrel, offset, size, mask, BPF_JEQ, false, v);

/** Compares `bytes` at `offset`: 4-byte words from the end, then halfwords, then a byte (`gen_bcmp`). */
export function bcmp(cs: CodegenState, offrel: OffRel, offset: number, bytes: Uint8Array): Block {
  let size = bytes.length;
  let b: Block | undefined;
  const be = (i: number, n: number): number => {
    let v = 0;
    for (let j = 0; j < n; j++) v = v * 256 + bytes[i + j]!;
    return v;
  };
  while (size >= 4) {
    const tmp = cmp(cs, offrel, offset + size - 4, BPF_W, be(size - 4, 4));
    if (b) genAnd(b, tmp);
    b = tmp;
    size -= 4;
  }
  while (size >= 2) {
    const tmp = cmp(cs, offrel, offset + size - 2, BPF_H, be(size - 2, 2));
    if (b) genAnd(b, tmp);
    b = tmp;
    size -= 2;
  }
  if (size > 0) {
    const tmp = cmp(cs, offrel, offset, BPF_B, bytes[0]!);
    if (b) genAnd(b, tmp);
    b = tmp;
  }
  return b!;
}
