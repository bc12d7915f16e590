/**
 * Value numbering over the block graph, the heart of the optimizer.
 *
 * Every value the program computes gets a number: equal numbers are equal values on every
 * packet (a packet load `[k]` is the same value wherever it happens, since the packet does not
 * change). Walking the blocks in topological order with the registers' and scratch words' value
 * numbers, plus what the branches taken so far prove (`[12] == 0x800` on the true side of a
 * `jeq`), the pass:
 * - folds constants and algebraic identities (`and #0`, `add #0`, `[x + k]` with a known X);
 * - deletes statements that leave a location holding the value it already holds (reloads,
 *   repeated `tax`, stores of the same value) and turns a reload of a value held in the other
 *   register into `tax`/`txa` (which makes scratch traffic dead);
 * - resolves branches whose outcome is already known;
 * - threads jumps: an edge into a block whose test outcome is known on that edge, and whose
 *   statements are either no-ops there or define only values dead at the chosen successor,
 *   is redirected to that successor (libpcap's "jump to a block whose outcome is known").
 * Loads are only skipped by threading when the same load already succeeded on every path to
 * the edge, so threading never changes which packets are rejected as truncated.
 *
 * After a pass, {@link ValueNumbering.pullUp} reorders `or`/`and` chains of tests so that a test
 * of the value A already holds comes first (libpcap's pull-ups, generalised).
 */
import { type Block, type Cfg, blockSuccessors, layoutOrder } from './cfg.js';
import { LOC_A, LOC_X, locM, useDef } from './dataflow.js';
import type { CbpfInstruction } from './instruction.js';

/** Interned value numbers with their constant values. */
class Values {
  private readonly ids = new Map<string, number>();
  private readonly consts = new Map<number, number>();

  constant(c: number): number {
    const key = `c${c >>> 0}`;
    let v = this.ids.get(key);
    if (v === undefined) {
      v = this.ids.size;
      this.ids.set(key, v);
      this.consts.set(v, c >>> 0);
    }
    return v;
  }

  of(key: string): number {
    let v = this.ids.get(key);
    if (v === undefined) {
      v = this.ids.size;
      this.ids.set(key, v);
    }
    return v;
  }

  constOf(v: number): number | undefined {
    return this.consts.get(v);
  }
}

/** Most test outcomes remembered per program point (far more than any real filter needs). */
const MAX_FACTS = 256;

/** Abstract machine state at a program point. */
interface State {
  a: number;
  x: number;
  m: number[];
  /** Values proven constant on every path here (by `jeq` outcomes). */
  known: Map<number, number>;
  /** Test outcomes proven on every path here, keyed `op:value:operand`. */
  facts: Map<string, boolean>;
  /** Packet-load values that succeeded on every path here (cannot fail again). */
  avail: Set<number>;
  /** Which of known (1), facts (2), avail (4) this state may write in place (copy on write). */
  owned: number;
}

/** A copy sharing the collections until either side writes them. */
function cloneState(s: State): State {
  s.owned = 0;
  return { a: s.a, x: s.x, m: s.m.slice(), known: s.known, facts: s.facts, avail: s.avail, owned: 0 };
}

function knownW(s: State): Map<number, number> {
  if (!(s.owned & 1)) {
    s.known = new Map(s.known);
    s.owned |= 1;
  }
  return s.known;
}

function factsW(s: State): Map<string, boolean> {
  if (!(s.owned & 2)) {
    s.facts = new Map(s.facts);
    s.owned |= 2;
  }
  return s.facts;
}

function availW(s: State): Set<number> {
  if (!(s.owned & 4)) {
    s.avail = new Set(s.avail);
    s.owned |= 4;
  }
  return s.avail;
}

/** Result of evaluating one statement. */
interface Evaluated {
  /** The statement to keep (possibly rewritten), or null when it is a no-op here. */
  insn: CbpfInstruction | null;
  /** Location bits it defines. */
  def: number;
  /** True when it may abort the program here (an unproven packet load, division by X). */
  mayFail: boolean;
}

const stmt = (code: number, k = 0): CbpfInstruction => ({ code, jt: 0, jf: 0, k: k >>> 0 });
const SIZE_NAME: Record<number, string> = { 0x00: 'w', 0x08: 'h', 0x10: 'b' };

/** Folds a 32-bit ALU operation; undefined for division/modulus by zero. */
function foldAlu(op: number, a: number, b: number): number | undefined {
  switch (op) {
    case 0x00:
      return (a + b) >>> 0;
    case 0x10:
      return (a - b) >>> 0;
    case 0x20:
      return Math.imul(a, b) >>> 0;
    case 0x30:
      return b === 0 ? undefined : Math.floor(a / b) >>> 0;
    case 0x90:
      return b === 0 ? undefined : (a % b) >>> 0;
    case 0x40:
      return (a | b) >>> 0;
    case 0x50:
      return (a & b) >>> 0;
    case 0xa0:
      return (a ^ b) >>> 0;
    case 0x60:
      return b < 32 ? (a << b) >>> 0 : 0;
    case 0x70:
      return b < 32 ? a >>> b : 0;
    default:
      return undefined;
  }
}

/** Evaluates a jump condition on constants. */
function foldTest(op: number, a: number, b: number): boolean {
  switch (op) {
    case 0x10:
      return a === b;
    case 0x20:
      return a > b;
    case 0x30:
      return a >= b;
    default:
      return (a & b) !== 0;
  }
}

/** One value-numbering pass; mutates the cfg and reports whether anything changed. */
export class ValueNumbering {
  private readonly values = new Values();
  /** Value number of A at each branch block's test, for the pull-ups. */
  private readonly testedValue = new Map<number, number>();
  changed = false;

  constructor(
    private readonly cfg: Cfg,
    private readonly liveIn: Map<number, number>,
  ) {}

  private cval(s: State, v: number): number | undefined {
    return this.values.constOf(v) ?? s.known.get(v);
  }

  private initialState(): State {
    // Like libpcap, do not rely on A and X starting at 0: a program that reads them before
    // writing them (libpcap 1.10's `byte N & V`) keeps its test rather than folding away.
    return {
      a: this.values.of('entry:a'),
      x: this.values.of('entry:x'),
      m: Array.from({ length: 16 }, (_, k) => this.values.of(`uninit:${k}`)),
      known: new Map(),
      facts: new Map(),
      avail: new Set(),
      owned: 7,
    };
  }

  private merge(states: State[], blockId: number): State {
    if (states.length === 1) return cloneState(states[0]!);
    const first = states[0]!;
    const pick = (get: (s: State) => number, loc: string): number => {
      const v = get(first);
      if (states.every((s) => get(s) === v)) return v;
      const c = this.cval(first, v);
      if (c !== undefined && states.every((s) => this.cval(s, get(s)) === c)) return this.values.constant(c);
      return this.values.of(`phi:${blockId}:${loc}`);
    };
    const known = new Map<number, number>();
    for (const [v, c] of first.known) if (states.every((s) => s.known.get(v) === c)) known.set(v, c);
    const facts = new Map<string, boolean>();
    for (const [key, r] of first.facts) if (states.every((s) => s.facts.get(key) === r)) facts.set(key, r);
    const avail = new Set<number>();
    for (const v of first.avail) if (states.every((s) => s.avail.has(v))) avail.add(v);
    return {
      a: pick((s) => s.a, 'a'),
      x: pick((s) => s.x, 'x'),
      m: first.m.map((_, k) => pick((s) => s.m[k]!, `m${k}`)),
      known,
      facts,
      avail,
      owned: 7,
    };
  }

  /** Value of `op(a, b)`, folding constants and identities. */
  private aluValue(s: State, op: number, a: number, b: number): number | undefined {
    const ca = this.cval(s, a);
    const cb = this.cval(s, b);
    if (ca !== undefined && cb !== undefined) {
      const r = foldAlu(op, ca, cb);
      return r === undefined ? undefined : this.values.constant(r);
    }
    if (cb !== undefined) {
      if (cb === 0 && (op === 0x00 || op === 0x10 || op === 0x40 || op === 0xa0 || op === 0x60 || op === 0x70))
        return a;
      if (cb === 1 && (op === 0x20 || op === 0x30)) return a;
      if (cb === 0xffffffff && op === 0x50) return a;
      if (cb === 0 && (op === 0x50 || op === 0x20)) return this.values.constant(0);
      if (cb === 1 && op === 0x90) return this.values.constant(0);
      if (cb === 0xffffffff && op === 0x40) return this.values.constant(0xffffffff);
      if (cb >= 32 && (op === 0x60 || op === 0x70)) return this.values.constant(0);
    }
    if (ca === 0 && (op === 0x50 || op === 0x20 || op === 0x60 || op === 0x70 || op === 0x30 || op === 0x90)) {
      // 0 & b, 0 * b, 0 << b, 0 >> b are 0; 0 / b and 0 % b are 0 unless b is 0 (handled by the caller).
      if (op !== 0x30 && op !== 0x90) return this.values.constant(0);
    }
    return this.values.of(`alu${op}:${a}:${cb !== undefined ? `k${cb}` : `v${b}`}`);
  }

  /** A statement setting A (or X) to value `v`, given what it was; rewrites into cheaper forms. */
  private assign(s: State, toX: boolean, v: number, original: CbpfInstruction): CbpfInstruction | null {
    const current = toX ? s.x : s.a;
    if (current === v) return null;
    const other = toX ? s.a : s.x;
    const c = this.cval(s, v);
    if (c !== undefined) return stmt(toX ? 0x01 : 0x00, c);
    if (other === v) return stmt(toX ? 0x07 : 0x87);
    return original;
  }

  /** Evaluates one statement on `s` (mutated). */
  evalStmt(s: State, insn: CbpfInstruction): Evaluated {
    const c = insn.code;
    const k = insn.k >>> 0;
    const V = this.values;
    switch (c) {
      case 0x20:
      case 0x28:
      case 0x30: {
        // ld [k]
        const v = V.of(`ld${SIZE_NAME[c & 0x18]}:${k}`);
        const mayFail = !s.avail.has(v);
        const out = s.a === v ? null : s.x === v ? stmt(0x87) : insn;
        s.a = v;
        if (!s.avail.has(v)) availW(s).add(v);
        return { insn: out, def: LOC_A, mayFail: mayFail && out !== null };
      }
      case 0x40:
      case 0x48:
      case 0x50: {
        // ld [x + k]
        const cx = this.cval(s, s.x);
        if (cx !== undefined && cx + k <= 0xffffffff) {
          const r = this.evalStmt(s, stmt(0x20 | (c & 0x18), cx + k));
          return r;
        }
        const v = V.of(`ind${SIZE_NAME[c & 0x18]}:${k}:${s.x}`);
        const mayFail = !s.avail.has(v);
        const out = s.a === v ? null : insn;
        s.a = v;
        if (!s.avail.has(v)) availW(s).add(v);
        return { insn: out, def: LOC_A, mayFail: mayFail && out !== null };
      }
      case 0xb1: {
        // ldxb 4*([k]&0xf)
        const v = V.of(`msh:${k}`);
        const mayFail = !s.avail.has(v);
        const out = s.x === v ? null : insn;
        s.x = v;
        if (!s.avail.has(v)) availW(s).add(v);
        return { insn: out, def: LOC_X, mayFail: mayFail && out !== null };
      }
      case 0x80:
      case 0x81: {
        const v = V.of('len');
        const toX = c === 0x81;
        const out = this.assign(s, toX, v, insn);
        if (toX) s.x = v;
        else s.a = v;
        return { insn: out, def: toX ? LOC_X : LOC_A, mayFail: false };
      }
      case 0x00:
      case 0x01: {
        const v = V.constant(k);
        const toX = c === 0x01;
        const out = (toX ? s.x : s.a) === v ? null : insn;
        if (toX) s.x = v;
        else s.a = v;
        return { insn: out, def: toX ? LOC_X : LOC_A, mayFail: false };
      }
      case 0x60:
      case 0x61: {
        const v = s.m[k]!;
        const toX = c === 0x61;
        const out = this.assign(s, toX, v, insn);
        if (toX) s.x = v;
        else s.a = v;
        return { insn: out, def: toX ? LOC_X : LOC_A, mayFail: false };
      }
      case 0x02:
      case 0x03: {
        const v = c === 0x02 ? s.a : s.x;
        const out = s.m[k] === v ? null : insn;
        s.m[k] = v;
        return { insn: out, def: locM(k), mayFail: false };
      }
      case 0x07: {
        const out = s.x === s.a ? null : insn;
        s.x = s.a;
        return { insn: out, def: LOC_X, mayFail: false };
      }
      case 0x87: {
        const out = s.a === s.x ? null : insn;
        s.a = s.x;
        return { insn: out, def: LOC_A, mayFail: false };
      }
      case 0x84: {
        const ca = this.cval(s, s.a);
        const v = ca !== undefined ? V.constant(-ca >>> 0) : V.of(`neg:${s.a}`);
        const out = s.a === v ? null : ca !== undefined ? stmt(0x00, -ca >>> 0) : insn;
        s.a = v;
        return { insn: out, def: LOC_A, mayFail: false };
      }
      default: {
        if ((c & 7) !== 4) return { insn, def: 0, mayFail: true };
        const op = c & 0xf0;
        const fromX = (c & 8) !== 0;
        const b = fromX ? s.x : V.constant(k);
        const cb = this.cval(s, b);
        if ((op === 0x30 || op === 0x90) && cb === undefined) {
          // Division by an unknown X may abort the program: keep it as it is.
          s.a = V.of(`alu${op}:${s.a}:v${b}`);
          return { insn, def: LOC_A, mayFail: true };
        }
        if ((op === 0x30 || op === 0x90) && cb === 0) {
          s.a = V.of(`div0:${s.a}`);
          return { insn, def: LOC_A, mayFail: true };
        }
        const v = this.aluValue(s, op, s.a, b)!;
        let out: CbpfInstruction | null;
        const cv = this.cval(s, v);
        if (s.a === v) out = null;
        else if (cv !== undefined) out = stmt(0x00, cv);
        else if (fromX && cb !== undefined) out = stmt(0x04 | op, cb);
        else out = insn;
        s.a = v;
        return { insn: out, def: LOC_A, mayFail: false };
      }
    }
  }

  /** Key and constant operand of a branch test in state `s`. */
  private testKey(s: State, code: number, k: number): { key: string; cb: number | undefined; b: number | undefined } {
    const op = code & 0xf0;
    if ((code & 8) === 0) return { key: `${op}:${s.a}:k${k >>> 0}`, cb: k >>> 0, b: undefined };
    const cb = this.cval(s, s.x);
    return { key: `${op}:${s.a}:${cb !== undefined ? `k${cb}` : `v${s.x}`}`, cb, b: s.x };
  }

  /** Outcome of a branch in state `s` if it is already decided. */
  private outcome(s: State, code: number, k: number): boolean | undefined {
    const op = code & 0xf0;
    const { key, cb, b } = this.testKey(s, code, k);
    const ca = this.cval(s, s.a);
    if (ca !== undefined && cb !== undefined) return foldTest(op, ca, cb);
    if (b !== undefined && b === s.a && op !== 0x40) return op !== 0x20; // a == a, a >= a, !(a > a)
    const f = s.facts.get(key);
    if (f !== undefined) return f;
    if (op === 0x40 && cb === 0) return false;
    return undefined;
  }

  /**
   * Records on `s` what taking a branch with this outcome proves; the test is evaluated with the
   * registers of `regs` (by default `s` itself).
   */
  private learn(s: State, code: number, k: number, result: boolean, regs: State = s): void {
    const { key, cb, b } = this.testKey(regs, code, k);
    // Bounded, so that very long filters (thousands of tests) do not copy huge maps per edge.
    if (s.facts.size < MAX_FACTS) factsW(s).set(key, result);
    if ((code & 0xf0) === 0x10 && result) {
      if (cb !== undefined) knownW(s).set(regs.a, cb);
      else if (b !== undefined) {
        const ca = this.cval(regs, regs.a);
        if (ca !== undefined) knownW(s).set(b, ca);
      }
    }
  }

  /** Runs the pass over every block. */
  run(): void {
    const cfg = this.cfg;
    const order = layoutOrder(cfg);
    const incoming = new Map<number, State[]>();
    incoming.set(cfg.entry, [this.initialState()]);
    for (const id of order) {
      const block = cfg.blocks.get(id)!;
      const ins = incoming.get(id);
      if (!ins || ins.length === 0) continue; // no longer reachable
      const s = this.merge(ins, id);
      const stmts: CbpfInstruction[] = [];
      for (const insn of block.stmts) {
        const r = this.evalStmt(s, insn);
        if (r.insn !== insn) this.changed = true;
        if (r.insn) stmts.push(r.insn);
      }
      block.stmts = stmts;
      const term = block.term;
      if (term.kind === 'ret') continue;
      if (term.kind === 'goto') {
        const { target, state } = this.thread(s, term.target);
        if (target !== term.target) {
          term.target = target;
          this.changed = true;
        }
        push(incoming, target, state);
        continue;
      }
      this.testedValue.set(id, s.a);
      if ((term.code & 8) !== 0) {
        const cx = this.cval(s, s.x);
        if (cx !== undefined) {
          term.code &= ~8;
          term.k = cx;
          this.changed = true;
        }
      }
      const decided = this.outcome(s, term.code, term.k);
      if (decided !== undefined) {
        const target = decided ? term.t : term.f;
        block.term = { kind: 'goto', target };
        this.changed = true;
        const r = this.thread(s, target);
        (block.term as { target: number }).target = r.target;
        push(incoming, r.target, r.state);
        continue;
      }
      for (const side of [true, false]) {
        const e = cloneState(s);
        this.learn(e, term.code, term.k, side);
        const old = side ? term.t : term.f;
        const r = this.thread(e, old);
        if (r.target !== old) {
          this.changed = true;
          if (side) term.t = r.target;
          else term.f = r.target;
        }
        push(incoming, r.target, r.state);
      }
    }
  }

  /**
   * libpcap's or/and pull-ups: in a chain of tests that share their true target (an `or` of
   * tests, linked by false edges) — or their false target (an `and`, linked by true edges) —
   * a later test of the value a block just tested is moved up right behind it, where its
   * load becomes redundant. Chain members must be reached only through the chain and may only
   * change A, so the order of the tests does not change their values.
   */
  pullUp(): void {
    const preds = this.predecessorCounts();
    for (const b of [...this.cfg.blocks.values()]) {
      if (b.term.kind !== 'branch' || !this.testedValue.has(b.id)) continue;
      for (const side of ['f', 't'] as const) {
        for (const or of [true, false]) {
          // A pull-up swaps edges without changing any block's number of predecessors.
          this.pullUpFrom(b, side, or, preds);
        }
      }
    }
  }

  private predecessorCounts(): Map<number, number> {
    const preds = new Map<number, number>();
    for (const blk of this.cfg.blocks.values())
      for (const s of blockSuccessors(blk)) preds.set(s, (preds.get(s) ?? 0) + 1);
    return preds;
  }

  /**
   * Looks at the chain of tests that starts on `side` of `b` — an `or` chain (false edges,
   * one shared true target) or an `and` chain (true edges, one shared false target) — and
   * moves the first member testing the value `b` just tested to the head of the chain, where
   * A already holds it.
   */
  private pullUpFrom(b: Block, side: 't' | 'f', or: boolean, preds: Map<number, number>): boolean {
    type Branch = Extract<Block['term'], { kind: 'branch' }>;
    const val = this.testedValue.get(b.id)!;
    const bt = b.term as Branch;
    const first = bt[side];
    const head = this.cfg.blocks.get(first);
    if (!head || head.term.kind !== 'branch') return false;
    const shared = or ? head.term.t : head.term.f;
    const next = (x: Branch): number => (or ? x.f : x.t);
    const member = (id: number): Branch | undefined => {
      const d = this.cfg.blocks.get(id);
      if (!d || d.term.kind !== 'branch' || preds.get(id) !== 1 || !this.testedValue.has(id)) return undefined;
      if ((or ? d.term.t : d.term.f) !== shared) return undefined;
      if (d.stmts.some((s) => (useDef(s).def & ~LOC_A) !== 0)) return undefined;
      return d.term;
    };
    let prev: Branch | undefined;
    let id = first;
    for (let steps = 0; steps < 4096; steps++) {
      const t = member(id);
      if (!t) return false;
      if (this.testedValue.get(id) === val) {
        if (!prev) return false; // already at the head
        if (or) {
          prev.f = t.f;
          t.f = first;
        } else {
          prev.t = t.t;
          t.t = first;
        }
        bt[side] = id;
        this.changed = true;
        return true;
      }
      prev = t;
      id = next(t);
    }
    return false;
  }

  /** Follows `target` past blocks whose outcome `edge` decides and whose work is not needed. */
  private thread(edge: State, target: number): { target: number; state: State } {
    let state = edge;
    for (let hops = 0; hops < 64; hops++) {
      const t = this.cfg.blocks.get(target)!;
      if (t.term.kind === 'goto' && t.stmts.length === 0) {
        if (t.term.target === target) break;
        target = t.term.target;
        continue;
      }
      if (t.term.kind !== 'branch') break;
      const sim = cloneState(state);
      const effects: Evaluated[] = [];
      for (const insn of t.stmts) {
        const r = this.evalStmt(sim, insn);
        if (r.insn) effects.push(r);
      }
      const term = t.term;
      const decided = this.outcome(sim, term.code, term.k);
      if (decided === undefined) break;
      const next = decided ? term.t : term.f;
      const live = this.liveIn.get(next);
      if (live === undefined) break;
      if (effects.some((e) => e.mayFail || (e.def & live) !== 0)) break;
      // Continue with the registers as they really are (the skipped statements did not run),
      // plus everything the decided test proved.
      const after = cloneState(state);
      after.known = sim.known;
      after.facts = sim.facts;
      after.owned = 0;
      sim.owned = 0;
      this.learn(after, term.code, term.k, decided, sim);
      state = after;
      target = next;
    }
    return { target, state };
  }
}

function push(map: Map<number, State[]>, id: number, s: State): void {
  const list = map.get(id);
  if (list) list.push(s);
  else map.set(id, [s]);
}
