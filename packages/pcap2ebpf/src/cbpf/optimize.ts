/**
 * A classic BPF optimizer in the spirit of libpcap's `bpf_optimize()`, working on any linear
 * program (its own basic blocks inside): value numbering with constant folding, redundant-load
 * and redundant-store elimination, jump threading through tests whose outcome is known, dead
 * statement elimination, merging of identical blocks (one shared `ret #0`), libpcap-style
 * or/and pull-ups that group tests of the same value, and peepholes
 * (`sub #k; jeq #0` → `jeq #k`, `and #k; jeq #0` → `jset #k`).
 *
 * Like libpcap's, it deletes packet loads whose value is never used, which can turn a
 * "truncated packet, reject" into a verdict; that is what pwru's filters do, and the corpus's
 * `matches` (optimized) versus `matches_noopt` record exactly that.
 *
 * Programs with a backward jump (libpcap's `protochain` loop) are returned unchanged, as
 * libpcap does.
 */
import { type Block, type Cfg, blockSuccessors, buildCfg, layoutOrder, linearize } from './cfg.js';
import { LOC_A, LOC_X, liveness, liveOut, useDef } from './dataflow.js';
import type { CbpfInstruction } from './instruction.js';
import { validateProgram } from './validate.js';
import { ValueNumbering } from './valuenumber.js';

/** Options of {@link optimize}. */
export interface OptimizeOptions {
  /** Upper bound on optimization rounds (each round runs every pass once). Default 64. */
  maxRounds?: number;
}

/** Optimizes a classic BPF program; the result accepts the same packets (see the module note on truncation). */
export function optimize(program: readonly CbpfInstruction[], options: OptimizeOptions = {}): CbpfInstruction[] {
  // Any size: libpcap's unoptimized code for a long filter often exceeds the kernel's 4096.
  validateProgram(program, { allowBackwardJumps: true, requireInitializedScratch: false, maxInstructions: Infinity });
  if (hasBackwardJump(program)) return program.map((i) => ({ ...i }));
  const cfg = buildCfg(program);
  const maxRounds = options.maxRounds ?? 64;
  for (let round = 0; round < maxRounds; round++) {
    let changed = simplify(cfg);
    const vn = new ValueNumbering(cfg, liveness(cfg));
    vn.run();
    vn.pullUp();
    changed = vn.changed || changed;
    changed = simplify(cfg) || changed;
    changed = eliminateDeadStatements(cfg) || changed;
    if (!changed) break;
  }
  return linearize(cfg);
}

function hasBackwardJump(program: readonly CbpfInstruction[]): boolean {
  return program.some((i) => i.code === 0x05 && (i.k | 0) < 0);
}

/** Structural clean-ups to a fixed point; true if anything changed. */
function simplify(cfg: Cfg): boolean {
  let any = false;
  for (;;) {
    let changed = false;
    removeUnreachable(cfg);
    const preds = predecessorCounts(cfg);
    for (const b of cfg.blocks.values()) {
      if ((preds.get(b.id) ?? 0) === 0 && b.id !== cfg.entry) continue; // absorbed this round
      const t = b.term;
      if (t.kind === 'branch') {
        const tt = skipEmptyGotos(cfg, t.t);
        const ff = skipEmptyGotos(cfg, t.f);
        if (tt !== t.t || ff !== t.f) {
          retarget(preds, t.t, tt);
          retarget(preds, t.f, ff);
          t.t = tt;
          t.f = ff;
          changed = true;
        }
        if (t.t === t.f) {
          preds.set(t.t, (preds.get(t.t) ?? 1) - 1);
          b.term = { kind: 'goto', target: t.t };
          changed = true;
        }
      }
      if (b.term.kind === 'goto') {
        const target = skipEmptyGotos(cfg, b.term.target);
        if (target !== b.term.target) {
          retarget(preds, b.term.target, target);
          b.term.target = target;
          changed = true;
        }
        const next = cfg.blocks.get(target)!;
        if (next.id !== b.id && (preds.get(target) === 1 || next.stmts.length === 0)) {
          // Absorb a block only we reach, or copy the ending of an empty one.
          b.stmts.push(...next.stmts.map((s) => ({ ...s })));
          b.term = next.term.kind === 'ret' ? { kind: 'ret', insn: { ...next.term.insn } } : { ...next.term };
          preds.set(target, (preds.get(target) ?? 1) - 1);
          for (const s of blockSuccessors(b)) preds.set(s, (preds.get(s) ?? 0) + 1);
          if (preds.get(target) === 0) for (const s of blockSuccessors(next)) preds.set(s, (preds.get(s) ?? 1) - 1);
          changed = true;
        }
      }
    }
    if (!changed) changed = intern(cfg);
    if (!changed) return any;
    any = true;
  }
}

function retarget(preds: Map<number, number>, from: number, to: number): void {
  if (from === to) return;
  preds.set(from, (preds.get(from) ?? 1) - 1);
  preds.set(to, (preds.get(to) ?? 0) + 1);
}

function skipEmptyGotos(cfg: Cfg, id: number): number {
  for (let hops = 0; hops < cfg.blocks.size; hops++) {
    const b = cfg.blocks.get(id)!;
    if (b.stmts.length !== 0 || b.term.kind !== 'goto') return id;
    id = b.term.target;
  }
  return id;
}

function removeUnreachable(cfg: Cfg): void {
  const seen = new Set(layoutOrder(cfg));
  for (const id of [...cfg.blocks.keys()]) if (!seen.has(id)) cfg.blocks.delete(id);
}

function predecessorCounts(cfg: Cfg): Map<number, number> {
  const count = new Map<number, number>();
  for (const b of cfg.blocks.values()) for (const s of blockSuccessors(b)) count.set(s, (count.get(s) ?? 0) + 1);
  return count;
}

/**
 * Merges blocks with identical statements and endings; true if any merged. Blocks are visited
 * successors first with their targets already renamed, so whole identical tails merge in one pass.
 */
function intern(cfg: Cfg): boolean {
  const bySignature = new Map<string, number>();
  const replace = new Map<number, number>();
  const map = (id: number): number => replace.get(id) ?? id;
  for (const id of layoutOrder(cfg).reverse()) {
    const b = cfg.blocks.get(id)!;
    const t = b.term;
    if (t.kind === 'goto') t.target = map(t.target);
    else if (t.kind === 'branch') {
      t.t = map(t.t);
      t.f = map(t.f);
    }
    const sig = signature(b);
    const same = bySignature.get(sig);
    if (same === undefined) bySignature.set(sig, id);
    else replace.set(id, same);
  }
  if (replace.size === 0) return false;
  for (const b of cfg.blocks.values()) {
    const t = b.term;
    if (t.kind === 'goto') t.target = map(t.target);
    else if (t.kind === 'branch') {
      t.t = map(t.t);
      t.f = map(t.f);
    }
  }
  cfg.entry = map(cfg.entry);
  for (const id of replace.keys()) cfg.blocks.delete(id);
  return true;
}

function signature(b: Block): string {
  const s = b.stmts.map((i) => `${i.code},${i.k >>> 0}`).join(';');
  const t = b.term;
  if (t.kind === 'ret') return `${s}|r${t.insn.code},${t.insn.k >>> 0}`;
  if (t.kind === 'goto') return `${s}|g${t.target}`;
  return `${s}|b${t.code},${t.k >>> 0},${t.t},${t.f}`;
}

/**
 * Deletes statements whose result is never read (packet loads included, as libpcap does; a
 * division by X stays, since it can end the program), and applies the end-of-block peepholes.
 */
function eliminateDeadStatements(cfg: Cfg): boolean {
  let changed = false;
  const liveIn = new Map<number, number>();
  const order = layoutOrder(cfg);
  for (let i = order.length - 1; i >= 0; i--) {
    const b = cfg.blocks.get(order[i]!)!;
    if (peephole(b, liveIn)) changed = true;
    if (foldIndexAdd(b, liveOut(b, liveIn))) changed = true;
    let live = liveOut(b, liveIn);
    const kept: CbpfInstruction[] = [];
    for (let j = b.stmts.length - 1; j >= 0; j--) {
      const s = b.stmts[j]!;
      const { use, def } = useDef(s);
      const divByX = s.code === 0x3c || s.code === 0x9c;
      if ((def & live) === 0 && !divByX) {
        changed = true;
        continue;
      }
      live = (live & ~def) | use;
      kept.push(s);
    }
    b.stmts = kept.reverse();
    liveIn.set(b.id, live);
  }
  return changed;
}

/**
 * `ld #c; …; add x; tax; ld [x + k]` → `ld [x + k+c]` when the new X is dead after the load
 * (the constant part of a computed index moves into the load offset; `ld #c` then dies).
 */
function foldIndexAdd(b: Block, out: number): boolean {
  const s = b.stmts;
  // Live-after mask of every statement.
  const liveAfter = new Array<number>(s.length);
  let live = out;
  for (let i = s.length - 1; i >= 0; i--) {
    liveAfter[i] = live;
    const { use, def } = useDef(s[i]!);
    live = (live & ~def) | use;
  }
  let constA: number | undefined;
  for (let i = 0; i < s.length; i++) {
    const insn = s[i]!;
    const next = s[i + 1];
    const load = s[i + 2];
    if (
      insn.code === 0x0c &&
      constA !== undefined &&
      next?.code === 0x07 &&
      load !== undefined &&
      (load.code === 0x40 || load.code === 0x48 || load.code === 0x50) &&
      (liveAfter[i + 2]! & LOC_X) === 0 &&
      (load.k >>> 0) + constA <= 0xffffffff
    ) {
      load.k = ((load.k >>> 0) + constA) >>> 0;
      s.splice(i, 2);
      return true;
    }
    if (insn.code === 0x00) constA = insn.k >>> 0;
    else if ((useDef(insn).def & LOC_A) !== 0) constA = undefined;
  }
  return false;
}

/** `sub #k; jeq #0` → `jeq #k`, `sub x; jeq #0` → `jeq x`, `and #k; jeq #0` → `jset #k` (swapped), when A is dead after. */
function peephole(b: Block, liveIn: Map<number, number>): boolean {
  const t = b.term;
  const last = b.stmts[b.stmts.length - 1];
  if (t.kind !== 'branch' || !last || t.code !== 0x15 || t.k !== 0) return false;
  const after = (liveIn.get(t.t) ?? -1) | (liveIn.get(t.f) ?? -1);
  if ((after & LOC_A) !== 0) return false;
  if (last.code === 0x14) {
    t.k = last.k >>> 0;
  } else if (last.code === 0x1c) {
    t.code = 0x1d;
  } else if (last.code === 0x54) {
    t.code = 0x45;
    t.k = last.k >>> 0;
    [t.t, t.f] = [t.f, t.t];
  } else return false;
  b.stmts.pop();
  return true;
}
