/**
 * Basic-block form of a classic BPF program, used by the optimizer and the eBPF lowering:
 * `buildCfg` splits a linear program at jump targets; `linearize` lays blocks out again
 * (libpcap's order: a block, then its true side, then its false side) and re-encodes the
 * relative offsets, adding a `ja` where a conditional target is more than 255 away.
 */
import { CbpfValidationError } from './errors.js';
import type { CbpfInstruction } from './instruction.js';
import { BPF_JA, BPF_JMP, BPF_RET, bpfClass, bpfOp } from './opcode.js';

/** How a block ends. */
export type Terminator =
  | { kind: 'ret'; insn: CbpfInstruction }
  | { kind: 'goto'; target: number }
  | { kind: 'branch'; code: number; k: number; t: number; f: number };

/** A basic block: straight-line statements then one terminator. */
export interface Block {
  /** Stable identifier (the index of the block's first instruction in the source program). */
  id: number;
  /** Non-jump, non-return instructions. */
  stmts: CbpfInstruction[];
  /** The ending. */
  term: Terminator;
}

/** A program as blocks; `entry` is the first block's id. */
export interface Cfg {
  blocks: Map<number, Block>;
  entry: number;
}

/** Successor block ids of a block (true side first). */
export function blockSuccessors(b: Block): number[] {
  switch (b.term.kind) {
    case 'ret':
      return [];
    case 'goto':
      return [b.term.target];
    case 'branch':
      return b.term.t === b.term.f ? [b.term.t] : [b.term.t, b.term.f];
  }
}

/** Splits a program into basic blocks. Jumps must land inside the program. */
export function buildCfg(program: readonly CbpfInstruction[]): Cfg {
  const n = program.length;
  if (n === 0) throw new CbpfValidationError(-1, 'empty program');
  const leader = new Array<boolean>(n + 1).fill(false);
  leader[0] = true;
  const targetOf = (pc: number, off: number): number => {
    const t = pc + 1 + off;
    if (t < 0 || t >= n) throw new CbpfValidationError(pc, `jump target ${t} outside the program`);
    return t;
  };
  program.forEach((insn, pc) => {
    if (bpfClass(insn.code) === BPF_JMP) {
      if (bpfOp(insn.code) === BPF_JA) leader[targetOf(pc, insn.k | 0)] = true;
      else {
        leader[targetOf(pc, insn.jt)] = true;
        leader[targetOf(pc, insn.jf)] = true;
      }
      leader[pc + 1] = true;
    } else if (bpfClass(insn.code) === BPF_RET) leader[pc + 1] = true;
  });
  const blocks = new Map<number, Block>();
  let start = 0;
  while (start < n) {
    const stmts: CbpfInstruction[] = [];
    let pc = start;
    let term: Terminator | undefined;
    for (; pc < n; pc++) {
      if (pc > start && leader[pc]) {
        term = { kind: 'goto', target: pc };
        break;
      }
      const insn = program[pc]!;
      const cls = bpfClass(insn.code);
      if (cls === BPF_RET) {
        term = { kind: 'ret', insn: { ...insn } };
        pc++;
        break;
      }
      if (cls === BPF_JMP) {
        term =
          bpfOp(insn.code) === BPF_JA
            ? { kind: 'goto', target: targetOf(pc, insn.k | 0) }
            : { kind: 'branch', code: insn.code, k: insn.k >>> 0, t: targetOf(pc, insn.jt), f: targetOf(pc, insn.jf) };
        pc++;
        break;
      }
      stmts.push({ ...insn });
    }
    if (!term) throw new CbpfValidationError(n - 1, 'the program does not end with a return or jump');
    blocks.set(start, { id: start, stmts, term });
    start = pc;
  }
  return { blocks, entry: 0 };
}

/**
 * Block ids in libpcap's layout order: depth-first, a block first, then (not yet placed) the
 * blocks reached through its true side, then through its false side. For a DAG this is a
 * topological order.
 */
export function layoutOrder(cfg: Cfg): number[] {
  const post: number[] = [];
  const seen = new Set<number>();
  // Iterative post-order visiting the false side first, then the true side.
  const stack: Array<[number, number]> = [[cfg.entry, 0]];
  seen.add(cfg.entry);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const b = cfg.blocks.get(top[0])!;
    const succ = blockSuccessors(b);
    const ordered = succ.length === 2 ? [succ[1]!, succ[0]!] : succ;
    if (top[1] < ordered.length) {
      const next = ordered[top[1]++]!;
      if (!seen.has(next)) {
        seen.add(next);
        stack.push([next, 0]);
      }
    } else {
      post.push(top[0]);
      stack.pop();
    }
  }
  return post.reverse();
}

/** Lays the blocks out as a linear program (only blocks reachable from the entry). */
export function linearize(cfg: Cfg): CbpfInstruction[] {
  const order = layoutOrder(cfg);
  const nextOf = new Map<number, number | undefined>(order.map((id, i) => [id, order[i + 1]]));
  const extra = new Map<number, number>(); // long-jump trampolines per block (0..2)
  for (let round = 0; ; round++) {
    const pos = new Map<number, number>();
    let at = 0;
    for (const id of order) {
      pos.set(id, at);
      at += blockSize(cfg.blocks.get(id)!, nextOf.get(id)) + (extra.get(id) ?? 0);
    }
    let grew = false;
    for (const id of order) {
      const b = cfg.blocks.get(id)!;
      if (b.term.kind !== 'branch') continue;
      const jumpAt = pos.get(id)! + b.stmts.length;
      const need = [b.term.t, b.term.f].filter((t) => pos.get(t)! - (jumpAt + 1) > 255).length;
      const distinct = b.term.t === b.term.f ? Math.min(need, 1) : need;
      if (distinct > (extra.get(id) ?? 0)) {
        extra.set(id, distinct);
        grew = true;
      }
    }
    if (!grew || round > 16) return emit(cfg, order, pos, extra);
  }
}

function blockSize(b: Block, next: number | undefined): number {
  if (b.term.kind === 'goto') return b.stmts.length + (next === b.term.target ? 0 : 1);
  return b.stmts.length + 1;
}

function emit(cfg: Cfg, order: number[], pos: Map<number, number>, extra: Map<number, number>): CbpfInstruction[] {
  const out: CbpfInstruction[] = [];
  order.forEach((id, i) => {
    const b = cfg.blocks.get(id)!;
    for (const s of b.stmts) out.push({ ...s });
    const term = b.term;
    if (term.kind === 'ret') out.push({ ...term.insn });
    else if (term.kind === 'goto') {
      if (order[i + 1] !== term.target)
        out.push({ code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: (pos.get(term.target)! - (out.length + 1)) >>> 0 });
    } else {
      const at = out.length;
      const trampolines = extra.get(id) ?? 0;
      const after = at + 1 + trampolines;
      let tOff = pos.get(term.t)! - (at + 1);
      let fOff = pos.get(term.f)! - (at + 1);
      const jumps: CbpfInstruction[] = [];
      const trampoline = (target: number): number => {
        const slot = at + 1 + jumps.length;
        jumps.push({ code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: pos.get(target)! - (slot + 1) });
        return slot - (at + 1);
      };
      if (trampolines > 0) {
        if (tOff > 255) tOff = trampoline(term.t);
        if (fOff > 255) fOff = term.f === term.t ? tOff : trampoline(term.f);
      }
      out.push({ code: term.code, jt: tOff, jf: fOff, k: term.k >>> 0 });
      out.push(...jumps);
      while (out.length < after) out.push({ code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: 0 });
    }
  });
  return out;
}
