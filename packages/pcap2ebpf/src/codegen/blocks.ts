/**
 * libpcap's intermediate code: statement lists and basic blocks joined by true/false edges, with
 * its back-patching and/or/not. Porting these exactly is what makes the unoptimized output
 * instruction-for-instruction equal to `tcpdump -O -d`.
 */
import { BPF_JEQ, BPF_JMP, BPF_K, BPF_RET } from '../cbpf/opcode.js';

/** One statement (`struct slist`): in-block jumps point at other statements of the same block. */
export interface Stmt {
  code: number;
  k: number;
  jt: Stmt | undefined;
  jf: Stmt | undefined;
  next: Stmt | undefined;
}

/** A basic block: statements, then one conditional jump (`code`, `k`) or a return. */
export interface Block {
  stmts: Stmt | undefined;
  code: number;
  k: number;
  jt: Block | undefined;
  jf: Block | undefined;
  /** Flipped by `not`: which edge the pending exit list is threaded through. */
  sense: boolean;
  /** Entry block of the expression this block ends. */
  head: Block;
  /** Filled in by linearization. */
  offset: number;
  longjt: number;
  longjf: number;
  mark: number;
}

/** A new statement. */
export function newStmt(code: number, k = 0): Stmt {
  return { code, k: k >>> 0, jt: undefined, jf: undefined, next: undefined };
}

/** A new block ending in `code` (a jump or a return). */
export function newBlock(code: number, k = 0): Block {
  const b = {
    stmts: undefined,
    code,
    k: k >>> 0,
    jt: undefined,
    jf: undefined,
    sense: false,
    offset: 0,
    longjt: 0,
    longjf: 0,
    mark: 0,
  } as unknown as Block;
  b.head = b;
  return b;
}

/** `ret #v`. */
export function retBlock(v: number): Block {
  return newBlock(BPF_RET | BPF_K, v);
}

/** `BPF_JMP | op | BPF_K`. */
export function jmp(op: number): number {
  return BPF_JMP | op | BPF_K;
}

/** Appends list `s1` to the end of list `s0` (`sappend`). */
export function sappend(s0: Stmt, s1: Stmt | undefined): void {
  let s = s0;
  while (s.next) s = s.next;
  s.next = s1;
}

/** Builds a statement list from statements, linking them in order. */
export function slist(...stmts: Stmt[]): Stmt {
  for (let i = 0; i + 1 < stmts.length; i++) sappend(stmts[i]!, stmts[i + 1]);
  return stmts[0]!;
}

function backpatch(list: Block | undefined, target: Block): void {
  while (list) {
    let next: Block | undefined;
    if (!list.sense) {
      next = list.jt;
      list.jt = target;
    } else {
      next = list.jf;
      list.jf = target;
    }
    list = next;
  }
}

function merge(b0: Block, b1: Block): void {
  let p = b0;
  for (;;) {
    const nxt = !p.sense ? p.jt : p.jf;
    if (!nxt) break;
    p = nxt;
  }
  if (!p.sense) p.jt = b1;
  else p.jf = b1;
}

/** `b0 and b1`; the result is `b1`. */
export function genAnd(b0: Block, b1: Block): void {
  backpatch(b0, b1.head);
  b0.sense = !b0.sense;
  b1.sense = !b1.sense;
  merge(b1, b0);
  b1.sense = !b1.sense;
  b1.head = b0.head;
}

/** `b0 or b1`; the result is `b1`. */
export function genOr(b0: Block, b1: Block): void {
  b0.sense = !b0.sense;
  backpatch(b0, b1.head);
  b0.sense = !b0.sense;
  merge(b1, b0);
  b1.head = b0.head;
}

/** `not b`. */
export function genNot(b: Block): void {
  b.sense = !b.sense;
}

/** Links the pending exits of `p` to `ret #snaplen` / `ret #0` (`finish_parse`); returns the root. */
export function finish(p: Block, snaplen: number): Block {
  backpatch(p, retBlock(snaplen));
  p.sense = !p.sense;
  backpatch(p, retBlock(0));
  return p.head;
}

/** A constant block: `ld #!rsense; jeq #0` (`gen_uncond`). */
export function uncond(rsense: boolean): Block {
  const b = newBlock(jmp(BPF_JEQ));
  b.stmts = newStmt(0 /* BPF_LD|BPF_IMM */, rsense ? 0 : 1);
  return b;
}
