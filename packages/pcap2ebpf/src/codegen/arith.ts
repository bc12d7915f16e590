/**
 * Arithmetic over packet data: every intermediate value goes through a scratch register, exactly as
 * libpcap's `gen_loadi`/`gen_load`/`gen_arth`/`gen_relation` do (so register numbers match too).
 */
import type { Proto, RelOp } from '../lang/ast.js';
import {
  BPF_ADD,
  BPF_ALU,
  BPF_AND,
  BPF_B,
  BPF_DIV,
  BPF_H,
  BPF_IMM,
  BPF_IND,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JMP,
  BPF_LD,
  BPF_LDX,
  BPF_LEN,
  BPF_LSH,
  BPF_MEM,
  BPF_MISC,
  BPF_MOD,
  BPF_MUL,
  BPF_NEG,
  BPF_OR,
  BPF_RSH,
  BPF_ST,
  BPF_SUB,
  BPF_TAX,
  BPF_W,
  BPF_X,
  BPF_XOR,
} from '../cbpf/opcode.js';
import { type Block, genAnd, genNot, jmp, newBlock, newStmt, sappend, type Stmt } from './blocks.js';
import { absOffsetVarpart, cmp, loadxIphdrlen } from './loads.js';
import { genIpfrag } from './port.js';
import { genProtoAbbrev } from './proto.js';
import type { CodegenState } from './state.js';

/** A value being computed: its code, the register holding it, and the guard its loads need. */
export interface Arth {
  s: Stmt;
  regno: number;
  b: Block | undefined;
}

/** A constant (`gen_loadi`). */
export function genLoadi(cs: CodegenState, val: number): Arth {
  const reg = cs.allocReg();
  const s = newStmt(BPF_LD | BPF_IMM, val);
  s.next = newStmt(BPF_ST, reg);
  return { s, regno: reg, b: undefined };
}

/** The packet length (`gen_loadlen`). */
export function genLoadlen(cs: CodegenState): Arth {
  const reg = cs.allocReg();
  const s = newStmt(BPF_LD | BPF_W | BPF_LEN);
  s.next = newStmt(BPF_ST, reg);
  return { s, regno: reg, b: undefined };
}

const xferToX = (a: Arth): Stmt => newStmt(BPF_LDX | BPF_MEM, a.regno);
const xferToA = (a: Arth): Stmt => newStmt(BPF_LD | BPF_MEM, a.regno);

/** `proto[index : size]` (`gen_load`). */
export function genLoad(cs: CodegenState, proto: Proto, inst: Arth, size: number): Arth {
  const regno = cs.allocReg();
  cs.freeReg(inst.regno);
  let sizeCode: number;
  switch (size) {
    case 1:
      sizeCode = BPF_B;
      break;
    case 2:
      sizeCode = BPF_H;
      break;
    case 4:
      sizeCode = BPF_W;
      break;
    default:
      return cs.error('data size must be 1, 2, or 4');
  }
  switch (proto) {
    case 'radio':
      return cs.error('radio information not present in capture');
    case 'link': {
      let s = absOffsetVarpart(cs, cs.offLinkhdr);
      if (s) {
        sappend(s, xferToA(inst));
        sappend(s, newStmt(BPF_ALU | BPF_ADD | BPF_X));
        sappend(s, newStmt(BPF_MISC | BPF_TAX));
      } else s = xferToX(inst);
      sappend(s, newStmt(BPF_LD | BPF_IND | sizeCode, cs.offLinkhdr.constantPart));
      sappend(inst.s, s);
      break;
    }
    case 'ip':
    case 'arp':
    case 'rarp':
    case 'atalk':
    case 'decnet':
    case 'sca':
    case 'lat':
    case 'moprc':
    case 'mopdl':
    case 'ip6': {
      let s = absOffsetVarpart(cs, cs.offLinkpl);
      if (s) {
        sappend(s, xferToA(inst));
        sappend(s, newStmt(BPF_ALU | BPF_ADD | BPF_X));
        sappend(s, newStmt(BPF_MISC | BPF_TAX));
      } else s = xferToX(inst);
      sappend(s, newStmt(BPF_LD | BPF_IND | sizeCode, cs.offLinkpl.constantPart + cs.offNl));
      sappend(inst.s, s);
      const b = genProtoAbbrev(cs, proto);
      if (inst.b) genAnd(inst.b, b);
      inst.b = b;
      break;
    }
    case 'sctp':
    case 'tcp':
    case 'udp':
    case 'icmp':
    case 'igmp':
    case 'igrp':
    case 'pim':
    case 'vrrp':
    case 'carp': {
      const s = loadxIphdrlen(cs);
      sappend(s, xferToA(inst));
      sappend(s, newStmt(BPF_ALU | BPF_ADD | BPF_X));
      sappend(s, newStmt(BPF_MISC | BPF_TAX));
      sappend(s, newStmt(BPF_LD | BPF_IND | sizeCode, cs.offLinkpl.constantPart + cs.offNl));
      sappend(inst.s, s);
      const b = genIpfrag(cs);
      genAnd(genProtoAbbrev(cs, proto), b);
      if (inst.b) genAnd(inst.b, b);
      genAnd(genProtoAbbrev(cs, 'ip'), b);
      inst.b = b;
      break;
    }
    case 'icmp6': {
      let b = genProtoAbbrev(cs, 'ip6');
      if (inst.b) genAnd(inst.b, b);
      inst.b = b;
      b = cmp(cs, 'linkpl', 6, BPF_B, 58);
      if (inst.b) genAnd(inst.b, b);
      inst.b = b;
      let s = absOffsetVarpart(cs, cs.offLinkpl);
      if (s) {
        sappend(s, xferToA(inst));
        sappend(s, newStmt(BPF_ALU | BPF_ADD | BPF_X));
        sappend(s, newStmt(BPF_MISC | BPF_TAX));
      } else s = xferToX(inst);
      sappend(s, newStmt(BPF_LD | BPF_IND | sizeCode, cs.offLinkpl.constantPart + cs.offNl + 40));
      sappend(inst.s, s);
      break;
    }
    default:
      return cs.error('unsupported index operation');
  }
  inst.regno = regno;
  sappend(inst.s, newStmt(BPF_ST, regno));
  return inst;
}

const ALU_OPS: Record<string, number> = {
  '+': BPF_ADD,
  '-': BPF_SUB,
  '*': BPF_MUL,
  '/': BPF_DIV,
  '%': BPF_MOD,
  '&': BPF_AND,
  '|': BPF_OR,
  '^': BPF_XOR,
  '<<': BPF_LSH,
  '>>': BPF_RSH,
};

/** `a0 op a1` (`gen_arth`), with libpcap's constant-divisor/shift checks on the right operand's first statement. */
export function genArth(cs: CodegenState, op: string, a0: Arth, a1: Arth): Arth {
  const code = ALU_OPS[op]!;
  const first = a1.s;
  const isImm = first.code === (BPF_LD | BPF_IMM);
  if (code === BPF_DIV && isImm && first.k === 0) cs.error('division by zero');
  if (code === BPF_MOD && isImm && first.k === 0) cs.error('modulus by zero');
  if ((code === BPF_LSH || code === BPF_RSH) && isImm && first.k > 31) cs.error('shift by more than 31 bits');
  const s0 = xferToX(a1);
  const s1 = xferToA(a0);
  sappend(s1, newStmt(BPF_ALU | BPF_X | code));
  sappend(s0, s1);
  sappend(a1.s, s0);
  sappend(a0.s, a1.s);
  cs.freeReg(a0.regno);
  cs.freeReg(a1.regno);
  const st = newStmt(BPF_ST, 0);
  a0.regno = st.k = cs.allocReg();
  sappend(a0.s, st);
  // libpcap keeps only a0's guard here; a1's guard is dropped (as in gen_arth).
  return a0;
}

/** `-a` (`gen_neg`). */
export function genNeg(cs: CodegenState, a: Arth): Arth {
  void cs;
  sappend(a.s, xferToA(a));
  sappend(a.s, newStmt(BPF_ALU | BPF_NEG));
  sappend(a.s, newStmt(BPF_ST, a.regno));
  return a;
}

/** `a0 relop a1` (`gen_relation`). */
export function genRelation(cs: CodegenState, op: RelOp, a0: Arth, a1: Arth): Block {
  const code = op === '>' || op === '<=' ? BPF_JGT : op === '>=' || op === '<' ? BPF_JGE : BPF_JEQ;
  const reversed = op === '<=' || op === '<' || op === '!=';
  const s0 = xferToX(a1);
  const s1 = xferToA(a0);
  let b: Block;
  if (code === BPF_JEQ) {
    b = newBlock(jmp(code));
    sappend(s1, newStmt(BPF_ALU | BPF_SUB | BPF_X));
  } else b = newBlock(BPF_JMP | code | BPF_X);
  if (reversed) genNot(b);
  sappend(s0, s1);
  sappend(a1.s, s0);
  sappend(a0.s, a1.s);
  b.stmts = a0.s;
  cs.freeReg(a0.regno);
  cs.freeReg(a1.regno);
  let tmp: Block | undefined;
  if (a0.b) {
    if (a1.b) {
      genAnd(a0.b, a1.b);
      tmp = a1.b;
    } else tmp = a0.b;
  } else tmp = a1.b;
  if (tmp) genAnd(tmp, b);
  return b;
}
