/**
 * Register/scratch use-def facts of classic BPF instructions, shared by the optimizer and the
 * eBPF lowering. Locations are bits of a mask: M[0..15] are bits 0..15, A is bit 16, X is bit 17.
 */
import { type Block, type Cfg, blockSuccessors, layoutOrder } from './cfg.js';
import type { CbpfInstruction } from './instruction.js';

/** Bit of the accumulator. */
export const LOC_A = 1 << 16;
/** Bit of the index register. */
export const LOC_X = 1 << 17;
/** Bit of scratch word M[k]. */
export const locM = (k: number): number => 1 << k;

/** Locations an instruction reads and writes. */
export interface UseDef {
  use: number;
  def: number;
}

/** Use and def masks of a non-jump instruction, or of a jump/return (defs empty). */
export function useDef(insn: CbpfInstruction): UseDef {
  const c = insn.code;
  switch (c & 7) {
    case 0: // LD
      switch (c & 0xe0) {
        case 0x40:
          return { use: LOC_X, def: LOC_A };
        case 0x60:
          return { use: locM(insn.k), def: LOC_A };
        default:
          return { use: 0, def: LOC_A };
      }
    case 1: // LDX
      return (c & 0xe0) === 0x60 ? { use: locM(insn.k), def: LOC_X } : { use: 0, def: LOC_X };
    case 2:
      return { use: LOC_A, def: locM(insn.k) };
    case 3:
      return { use: LOC_X, def: locM(insn.k) };
    case 4:
      if ((c & 0xf0) === 0x80) return { use: LOC_A, def: LOC_A };
      return { use: (c & 8) !== 0 ? LOC_A | LOC_X : LOC_A, def: LOC_A };
    case 5:
      if ((c & 0xf0) === 0) return { use: 0, def: 0 };
      return { use: (c & 8) !== 0 ? LOC_A | LOC_X : LOC_A, def: 0 };
    case 6:
      return { use: (c & 0x18) === 0x10 ? LOC_A : (c & 0x18) === 0x08 ? LOC_X : 0, def: 0 };
    default:
      return (c & 0xf8) === 0x80 ? { use: LOC_X, def: LOC_A } : { use: LOC_A, def: LOC_X };
  }
}

/** Live-in location masks of every block (A, X, M[]), for a DAG. */
export function liveness(cfg: Cfg): Map<number, number> {
  const order = layoutOrder(cfg);
  const liveIn = new Map<number, number>();
  for (let i = order.length - 1; i >= 0; i--) {
    const b = cfg.blocks.get(order[i]!)!;
    liveIn.set(b.id, blockLiveIn(b, liveOut(b, liveIn)));
  }
  return liveIn;
}

/** Locations live after a block's statements (its terminator's uses plus successors' live-in). */
export function liveOut(b: Block, liveIn: Map<number, number>): number {
  let live = 0;
  for (const s of blockSuccessors(b)) live |= liveIn.get(s) ?? 0x3ffff;
  const t = b.term;
  if (t.kind === 'ret') live |= useDef(t.insn).use;
  else if (t.kind === 'branch') live |= (t.code & 8) !== 0 ? LOC_A | LOC_X : LOC_A;
  return live;
}

function blockLiveIn(b: Block, out: number): number {
  let live = out;
  for (let i = b.stmts.length - 1; i >= 0; i--) {
    const { use, def } = useDef(b.stmts[i]!);
    live = (live & ~def) | use;
  }
  return live;
}
