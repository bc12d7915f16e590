import {
  And,
  ArSh,
  type Instruction,
  Ja,
  JEq,
  JGE,
  JGT,
  JLE,
  JLT,
  JNE,
  JSGE,
  JSGT,
  JSLE,
  JSLT,
  LoadImm64,
  LSh,
  R1,
  R2,
  R7,
  R9,
  type Register,
  RSh,
  StoreImm,
  R10,
} from 'bpf-asm-ts';
import type { Emitter } from '../generate/emitter.js';
import type { CmpOp } from './ast.js';
import type { Cond, Hop, Place } from './ir.js';

const JUMP_UNSIGNED = { '==': JEq, '!=': JNE, '<': JLT, '<=': JLE, '>': JGT, '>=': JGE } as const;
const JUMP_SIGNED = { '==': JEq, '!=': JNE, '<': JSLT, '<=': JSLE, '>': JSGT, '>=': JSGE } as const;

/** What the generated code may use: 16 bytes of stack scratch (the root pointer is in r7). */
export interface CondFrame {
  readonly scratch: number;
}

/** True when a 64-bit pattern survives the sign extension of a 32-bit immediate. */
function fitsImm(v: bigint): boolean {
  return v >= -(1n << 31n) && v < 1n << 31n;
}

/** Signed 64-bit view of a 64-bit pattern. */
function signed64(v: bigint): bigint {
  v &= (1n << 64n) - 1n;
  return v >= 1n << 63n ? v - (1n << 64n) : v;
}

/**
 * Emits `cond` as a filter fragment: straight-line code with forward jumps only that falls
 * through when the condition holds and jumps to `reject` when it does not. The root pointer is
 * in r7; r1-r5, r0, r9 and the scratch slot are clobbered. Every pointer read is one
 * `bpf_probe_read_kernel`, so any kernel address is safe to follow; a NULL pointer makes its
 * comparison false.
 */
export function emitCond(
  e: Emitter,
  cond: Cond,
  frame: CondFrame,
  reject: string,
  comment = 'filter expression',
): void {
  const accept = e.fresh('expr_true');
  new CondEmitter(e, frame, comment).cond(cond, accept, reject);
  e.label(accept);
}

class CondEmitter {
  constructor(
    private readonly e: Emitter,
    private readonly frame: CondFrame,
    private readonly comment: string,
  ) {}

  /** Jumps to `t` when `c` holds, to `f` when it does not. */
  cond(c: Cond, t: string, f: string): void {
    switch (c.kind) {
      case 'and': {
        const mid = this.e.fresh('expr_and');
        this.cond(c.left, mid, f);
        this.e.label(mid);
        this.cond(c.right, t, f);
        return;
      }
      case 'or': {
        const mid = this.e.fresh('expr_or');
        this.cond(c.left, t, mid);
        this.e.label(mid);
        this.cond(c.right, t, f);
        return;
      }
      case 'not':
        this.cond(c.operand, f, t);
        return;
      case 'cmp':
        this.scalar(c, t, f);
        return;
      case 'bytes':
        this.bytes(c, t, f);
        return;
    }
  }

  /** Follows the hops; leaves the base pointer in the returned register, or jumps to `f` on NULL. */
  private base(hops: readonly Hop[], f: string): Register {
    let base: Register = R7;
    for (const h of hops) {
      this.e.readKernel(R9, base, h.offset, 8, this.frame.scratch);
      if (h.mask !== undefined) this.and(R9, h.mask);
      this.e.ifZero(R9, f);
      base = R9;
    }
    return base;
  }

  private and(reg: Register, mask: bigint): void {
    const m = signed64(mask);
    if (fitsImm(m)) this.e.emit(And.imm(reg, Number(m)));
    else this.e.emit(LoadImm64(R2, m), And.reg(reg, R2));
  }

  private load(place: Place, f: string): void {
    const base = this.base(place.hops, f);
    this.e.readKernel(R1, base, place.offset, place.size, this.frame.scratch);
    if (place.bitSize !== undefined) {
      if (place.bitOffset) this.e.emit(RSh.imm(R1, place.bitOffset));
      if (place.bitSize < 64) this.e.emit(LSh.imm(R1, 64 - place.bitSize), RSh.imm(R1, 64 - place.bitSize));
    }
  }

  private scalar(c: Extract<Cond, { kind: 'cmp' }>, t: string, f: string): void {
    this.e.section(`${this.comment}: ${c.place.text} ${c.op} ${c.value}`);
    this.load(c.place, f);
    const width = c.place.bitSize ?? c.place.size * 8;
    if (c.signed && width < 64) this.e.emit(LSh.imm(R1, 64 - width), ArSh.imm(R1, 64 - width));
    if (c.mask !== undefined) this.and(R1, c.mask);
    const op: CmpOp = c.op;
    const table = c.signed ? JUMP_SIGNED : JUMP_UNSIGNED;
    const v = signed64(c.value);
    const insns: Instruction[] = [];
    if (fitsImm(v)) insns.push(table[op].imm(R1, Number(v), t));
    else insns.push(LoadImm64(R2, v), table[op].reg(R1, R2, t));
    this.e.emit(...insns, Ja(f));
  }

  private bytes(c: Extract<Cond, { kind: 'bytes' }>, t: string, f: string): void {
    this.e.section(
      `${this.comment}: ${c.place.text} ${c.op} ${JSON.stringify(new TextDecoder().decode(c.bytes).replace(/\0$/, ''))}`,
    );
    // Equal bytes make `==` true and `!=` false; a NULL pointer on the way makes either false.
    const [same, differ] = c.op === '==' ? [t, f] : [f, t];
    const base = this.base(c.place.hops, f);
    const baseReg = base;
    for (let at = 0; at < c.bytes.length; at += 8) {
      const n = Math.min(8, c.bytes.length - at);
      let want = 0n;
      for (let i = n - 1; i >= 0; i--) want = (want << 8n) | BigInt(c.bytes[at + i]!);
      this.e.emit(StoreImm(R10, this.frame.scratch, 0, 'u64'));
      this.e.probeRead(this.frame.scratch, n, baseReg, c.place.offset + at);
      this.e.loadStack(R1, this.frame.scratch, 8);
      const w = signed64(want);
      if (fitsImm(w)) this.e.emit(JNE.imm(R1, Number(w), differ));
      else this.e.emit(LoadImm64(R2, w), JNE.reg(R1, R2, differ));
    }
    this.e.emit(Ja(same));
  }
}
