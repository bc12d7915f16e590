/**
 * Lowers a classic BPF program to eBPF (`bpf-asm-ts` instructions).
 *
 * The result is a filter a larger program calls, as pwru injects its pcap filter: a bpf-to-bpf
 * function (`form: 'function'`, called with `callFunction(name)`, result in R0, its own stack
 * frame) or an inline fragment (`form: 'inline'`, continues at `resultLabel` with R0 = result).
 * R0 is 0 to reject, the cBPF return value (non-zero) to accept. Every label carries
 * `labelPrefix`, so several filters can be linked into one program.
 *
 * Memory models:
 * - `'packet'`: direct packet access (tc, xdp, and test runs of those). Arguments: R1 = packet
 *   start, R2 = packet end (verifier packet pointers). Loads are bounds-checked against R2 in
 *   the form the verifier understands; a block checks once for its farthest load, and a
 *   check already made on every path into a block is not repeated. Out of bounds = reject.
 *   A load reaching past 32 KiB rejects (the verifier caps packet offsets).
 * - `'kernel'`: the packet is kernel memory (kprobe/tracing programs, pwru). Arguments: R1 =
 *   address of the first byte, R2 = packet length. One `bpf_probe_read_kernel` copies the
 *   bytes the filter can touch — `min(length, window)` — to the stack; loads then read the
 *   copy and anything past the copied length rejects, as cBPF does past the packet end. The
 *   window is the farthest absolute load, or `indirectWindow` bytes if the filter indexes by X
 *   (an indexed load beyond the window rejects). One helper call per evaluation, none if the
 *   filter never reads the packet.
 * - `'skb'`: like `'kernel'` but the copy is made with `bpf_skb_load_bytes` from the socket
 *   buffer in R1 (socket filters, which cannot read packet memory directly).
 *
 * cBPF semantics kept: 32-bit unsigned arithmetic; division or modulus by X = 0 rejects;
 * shifts by X >= 32 give 0 (libpcap's interpreter); A, X and any scratch word read before it
 * is written start at 0; `protochain`'s backward jump becomes a bounded loop (the verifier
 * needs a bound: after `maxLoopIterations` backward jumps the filter rejects).
 */
import {
  Add,
  And,
  Div,
  exit,
  Helper,
  call,
  Instruction,
  JEq,
  JGE,
  JGT,
  JLE,
  JLT,
  JNE,
  JSet,
  Ja,
  LSh,
  LoadMem,
  Mod,
  Mov,
  Mul,
  neg32,
  Or,
  RSh,
  R0,
  R1,
  R10,
  R2,
  R3,
  R4,
  StoreImm,
  StoreMem,
  Sub,
  toBE,
  Xor,
  type AluOperation,
  type JumpOperation,
  type MemSize,
} from 'bpf-asm-ts';
import { type Cfg, buildCfg, type Block } from '../cbpf/cfg.js';
import type { CbpfInstruction } from '../cbpf/instruction.js';
import { loadWidth } from '../cbpf/opcode.js';
import { validateProgram } from '../cbpf/validate.js';
import { analyze, type ProgramFacts } from './analysis.js';
import { LoweringError } from './errors.js';
import {
  REG_A,
  REG_END,
  REG_P,
  REG_START,
  REG_T,
  REG_X,
  scratchOffset,
  stackLayout,
  type StackLayout,
} from './frame.js';

/** Where the packet bytes are. */
export type MemoryModel = 'packet' | 'kernel' | 'skb';

/** Options of {@link lowerCbpf}. */
export interface LowerOptions {
  /** Memory model (see the module note). */
  memory: MemoryModel;
  /** A bpf-to-bpf function (default) or an inline fragment. */
  form?: 'function' | 'inline';
  /** Prefix of every label; the function's name is the prefix itself. Default `pcap_filter`. */
  labelPrefix?: string;
  /** Inline form: the label to continue at with R0 = result. Default `${labelPrefix}_result`. */
  resultLabel?: string;
  /** Inline form: bytes below R10 the host already uses; the filter's stack starts below them. */
  stackOffset?: number;
  /** Copy models: bytes copied when the filter has X-indexed loads. Default 256. */
  indirectWindow?: number;
  /** Backward jumps allowed per evaluation before the filter rejects (each one costs verifier time). Default 16. */
  maxLoopIterations?: number;
}

/** A lowered filter. */
export interface LoweredFilter {
  /** The instructions; for the function form the first one carries {@link name}. */
  instructions: Instruction[];
  /** Function name (function form) — the label prefix. */
  name: string;
  /** Label the inline form continues at. */
  resultLabel: string;
  /** Stack bytes used below R10 (including `stackOffset`). */
  stackDepth: number;
  /** Bytes copied per evaluation in the copy models (0 for direct access). */
  copyBytes: number;
  /** Helper calls per evaluation (copy models: 1 if the filter reads the packet, else 0). */
  helperCalls: number;
  /** The memory model. */
  memory: MemoryModel;
}

/**
 * Largest end offset (k + size, or X + k + size) a load may reach in direct packet access: half
 * the verifier's 0xffff packet-offset limit, so that the packet start itself may sit at a
 * constant offset (e.g. data + 14). A load past it rejects.
 */
const MAX_DIRECT_END = 0x7fff;
/** Stack available to one BPF frame. */
const MAX_STACK = 512;

const SIZE: Record<number, MemSize> = { 1: 'u8', 2: 'u16', 4: 'u32' };

const ALU: Record<number, AluOperation> = {
  0x00: Add,
  0x10: Sub,
  0x20: Mul,
  0x30: Div,
  0x40: Or,
  0x50: And,
  0x60: LSh,
  0x70: RSh,
  0x90: Mod,
  0xa0: Xor,
};

const JUMP: Record<number, { op: JumpOperation; inverse?: JumpOperation }> = {
  0x10: { op: JEq, inverse: JNE },
  0x20: { op: JGT, inverse: JLE },
  0x30: { op: JGE, inverse: JLT },
  0x40: { op: JSet },
};

/** Lowers `program` (validated: jumps in range, backward `ja` allowed) to eBPF. */
export function lowerCbpf(program: readonly CbpfInstruction[], options: LowerOptions): LoweredFilter {
  // No 4096 cap: that is classic BPF's kernel limit; eBPF programs may be far longer.
  validateProgram(program, { allowBackwardJumps: true, requireInitializedScratch: false, maxInstructions: Infinity });
  const facts = analyze(program);
  if (facts.ancillaryAt >= 0) {
    throw new LoweringError(
      facts.ancillaryAt,
      'Linux ancillary loads (inbound, outbound, ifindex, ...) read socket-buffer metadata that eBPF filters on packet bytes cannot see',
    );
  }
  return new Lowering(program, facts, options).run();
}

class Lowering {
  private readonly prefix: string;
  private readonly form: 'function' | 'inline';
  private readonly resultLabel: string;
  private readonly memory: MemoryModel;
  private readonly copyBytes: number;
  private readonly stack: StackLayout;
  /** Frame offset of the copy's first byte (the layout's buffer, shifted for alignment). */
  private readonly buffer: number;
  private readonly base: number;
  private readonly maxLoops: number;
  private readonly cfg: Cfg;
  private readonly out: Instruction[] = [];
  private pending: string | undefined;
  private readonly referenced = new Set<string>();
  private rejectUsed = false;

  constructor(
    program: readonly CbpfInstruction[],
    private readonly facts: ProgramFacts,
    options: LowerOptions,
  ) {
    this.prefix = options.labelPrefix ?? 'pcap_filter';
    if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(this.prefix)) {
      throw new LoweringError(-1, `label prefix "${this.prefix}" must be an identifier (letters, digits, _ and .)`);
    }
    this.form = options.form ?? 'function';
    this.resultLabel = options.resultLabel ?? `${this.prefix}_result`;
    this.memory = options.memory;
    this.base = this.form === 'inline' ? (options.stackOffset ?? 0) : 0;
    this.maxLoops = options.maxLoopIterations ?? 16;
    const window = options.indirectWindow ?? 256;
    const copy =
      this.memory === 'packet' || !facts.readsPacket ? 0 : Math.max(facts.absoluteEnd, facts.indirect ? window : 0);
    this.copyBytes = copy;
    // Room for shifting the copy by up to 7 bytes so that most loads are aligned.
    this.stack = stackLayout(this.base, copy === 0 ? 0 : copy + 8);
    this.buffer = this.stack.buffer + bestShift(program);
    if (this.stack.depth > MAX_STACK) {
      throw new LoweringError(
        -1,
        `the filter needs ${this.stack.depth} bytes of stack (copy of ${copy} bytes), more than ${MAX_STACK}: lower indirectWindow or stackOffset`,
      );
    }
    this.cfg = buildCfg(program);
  }

  run(): LoweredFilter {
    if (this.form === 'function') this.pending = this.prefix;
    this.prologue();
    this.body();
    this.epilogue();
    return {
      instructions: this.out,
      name: this.prefix,
      resultLabel: this.resultLabel,
      stackDepth: this.stack.depth,
      copyBytes: this.copyBytes,
      helperCalls: this.memory !== 'packet' && this.facts.readsPacket ? 1 : 0,
      memory: this.memory,
    };
  }

  // ---- emission helpers -------------------------------------------------------------------

  private emit(insn: Instruction): void {
    if (this.pending !== undefined) {
      insn = insn.withSymbol(this.pending);
      this.pending = undefined;
    }
    this.out.push(insn);
  }

  private label(name: string): void {
    if (this.pending !== undefined && this.referenced.has(this.pending)) this.emit(Ja(0));
    this.pending = name;
  }

  private ref(label: string): string {
    this.referenced.add(label);
    return label;
  }

  private blockLabel(id: number): string {
    return `${this.prefix}_b${id}`;
  }

  private reject(): string {
    this.rejectUsed = true;
    return this.ref(`${this.prefix}_reject`);
  }

  /** Farthest end offset a load can reach: the copy's size, or the direct-access limit. */
  private get reach(): number {
    return this.copied ? this.copyBytes : MAX_DIRECT_END;
  }

  private get copied(): boolean {
    return this.memory !== 'packet';
  }

  // ---- prologue / epilogue ----------------------------------------------------------------

  private prologue(): void {
    const s = this.stack;
    if (this.copied) {
      if (this.facts.readsLength || this.facts.readsPacket) this.emit(StoreMem(R10, s.length, R2, 'u64'));
      if (this.facts.readsPacket) {
        // size = min(length, window), kept on the stack across the helper call.
        this.emit(JLE.imm(R2, this.copyBytes, 1));
        this.emit(Mov.imm(R2, this.copyBytes));
        this.emit(StoreMem(R10, s.copied, R2, 'u64'));
        this.zeroCopyBuffer();
        if (this.memory === 'kernel') {
          // bpf_probe_read_kernel(dst = stack copy, size, src = packet address)
          this.emit(Mov.reg(R3, R1));
          this.emit(Mov.reg(R1, R10));
          this.emit(Add.imm(R1, this.buffer));
          this.emit(call(Helper.probe_read_kernel));
          this.emit(JNE.imm(R0, 0, this.reject()));
        } else {
          // bpf_skb_load_bytes(skb, 0, dst = stack copy, size); size 0 is not allowed.
          this.emit(JEq.imm(R2, 0, 6));
          this.emit(Mov.reg(R4, R2));
          this.emit(Mov.reg(R3, R10));
          this.emit(Add.imm(R3, this.buffer));
          this.emit(Mov.imm(R2, 0));
          this.emit(call(Helper.skb_load_bytes));
          this.emit(JNE.imm(R0, 0, this.reject()));
        }
        this.emit(LoadMem(REG_END, R10, s.copied, 'u64'));
      }
    }
    if (this.facts.loops) this.emit(StoreImm(R10, s.loopCounter, 0, 'u64'));
    for (let k = 0; k < 16; k++) {
      if (this.facts.uninitializedScratch & (1 << k)) this.emit(StoreImm(R10, scratchOffset(this.base, k), 0, 'u32'));
    }
    // cBPF starts with A = X = 0; the eBPF verifier refuses reads of unset registers.
    this.emit(Mov.imm(REG_A, 0));
    this.emit(Mov.imm(REG_X, 0));
  }

  /**
   * Zeroes the stack copy before the helper fills it. The copy's size is a register
   * (min(length, window)), and kernels before 6.4 or so check a variable-size helper
   * destination as a read of the whole buffer: uninitialised stack there is
   * "invalid indirect read from stack", even for root (seen on Debian's 6.1).
   */
  private zeroCopyBuffer(): void {
    const start = this.stack.buffer;
    const bytes = this.stack.depth - this.base - 88;
    if (start % 8 === 0) {
      for (let off = 0; off < bytes; off += 8) this.emit(StoreImm(R10, start + off, 0, 'u64'));
    } else {
      for (let off = 0; off < bytes; off++) this.emit(StoreImm(R10, start + off, 0, 'u8'));
    }
  }

  private epilogue(): void {
    if (this.rejectUsed) {
      this.label(`${this.prefix}_reject`);
      this.emit(Mov.imm(R0, 0));
      this.finish();
    }
  }

  /** Ends an evaluation with R0 set: `exit` or a jump to the host's result label. */
  private finish(): void {
    if (this.form === 'function') this.emit(exit());
    else this.emit(Ja(this.resultLabel));
  }

  // ---- body -------------------------------------------------------------------------------

  private body(): void {
    const ids = this.reachableBlocks();
    const guards = this.entryGuards(ids);
    ids.forEach((id, i) => {
      const block = this.cfg.blocks.get(id)!;
      this.label(this.blockLabel(id));
      this.block(block, guards.get(id) ?? 0, ids[i + 1]);
    });
  }

  /** Block ids in program order that can execute (a block reading past any packet ends its path). */
  private reachableBlocks(): number[] {
    const seen = new Set<number>([this.cfg.entry]);
    const work = [this.cfg.entry];
    while (work.length > 0) {
      const b = this.cfg.blocks.get(work.pop()!)!;
      if (this.alwaysRejects(b)) continue;
      for (const s of successorsOf(b)) {
        if (!seen.has(s)) {
          seen.add(s);
          work.push(s);
        }
      }
    }
    return [...seen].sort((a, b) => a - b);
  }

  private alwaysRejects(b: Block): boolean {
    return this.blockNeed(b) > this.reach;
  }

  /** Bytes known to be in bounds on every path into each block (a forward must-analysis). */
  private entryGuards(ids: number[]): Map<number, number> {
    const INF = Number.MAX_SAFE_INTEGER;
    const entry = new Map<number, number>(ids.map((id) => [id, INF]));
    entry.set(this.cfg.entry, 0);
    for (let changed = true; changed; ) {
      changed = false;
      for (const id of ids) {
        const b = this.cfg.blocks.get(id)!;
        const inGuard = entry.get(id)!;
        if (inGuard === INF && id !== this.cfg.entry) continue;
        const outGuard = Math.max(inGuard, this.blockNeed(b));
        for (const s of successorsOf(b)) {
          if (outGuard < entry.get(s)!) {
            entry.set(s, outGuard);
            changed = true;
          }
        }
      }
    }
    return entry;
  }

  /** Farthest absolute byte a block reads (0 if none). */
  private blockNeed(b: Block): number {
    let need = 0;
    for (const s of b.stmts) {
      if (s.code === 0x20 || s.code === 0x28 || s.code === 0x30) need = Math.max(need, (s.k >>> 0) + loadWidth(s.code));
      else if (s.code === 0xb1) need = Math.max(need, (s.k >>> 0) + 1);
    }
    return need;
  }

  private block(b: Block, guarded: number, nextId: number | undefined): void {
    const need = this.blockNeed(b);
    if (this.alwaysRejects(b)) {
      this.emit(Ja(this.reject()));
      return;
    }
    if (need > guarded) this.guard(need);
    for (const s of b.stmts) this.stmt(s);
    const t = b.term;
    if (t.kind === 'ret') {
      if (t.insn.code === 0x06) this.emit(Mov.imm32(R0, t.insn.k >>> 0));
      // ret a: A is R0 already.
      this.finish();
    } else if (t.kind === 'goto') {
      if (t.target <= b.id) this.loopBack();
      if (t.target !== nextId || t.target <= b.id) this.emit(Ja(this.ref(this.blockLabel(t.target))));
    } else {
      this.branch(t.code, t.k >>> 0, t.t, t.f, nextId);
    }
  }

  /** Rejects unless `need` bytes are available from the packet start. */
  private guard(need: number): void {
    if (!this.copied) {
      this.emit(Mov.reg(REG_T, REG_START));
      this.emit(Add.imm(REG_T, need));
      this.emit(JGT.reg(REG_T, REG_END, this.reject()));
    } else {
      this.emit(JLT.imm(REG_END, need, this.reject()));
    }
  }

  private loopBack(): void {
    const off = this.stack.loopCounter;
    this.emit(LoadMem(REG_T, R10, off, 'u64'));
    this.emit(Add.imm(REG_T, 1));
    this.emit(StoreMem(R10, off, REG_T, 'u64'));
    this.emit(JGT.imm(REG_T, this.maxLoops, this.reject()));
    // Forget what the verifier knows about X: a 4-byte store that does not start an 8-byte stack
    // slot is not tracked, so X comes back as any u32. Every path then reaches the loop head in
    // the same state and the verifier explores each trip once instead of once per path (every
    // load that indexes by X bounds it again first).
    this.emit(StoreMem(R10, this.stack.loopScratch, REG_X, 'u32'));
    this.emit(LoadMem(REG_X, R10, this.stack.loopScratch, 'u32'));
  }

  private branch(code: number, k: number, t: number, f: number, nextId: number | undefined): void {
    const { op, inverse } = JUMP[code & 0xf0]!;
    const fromX = (code & 8) !== 0;
    const jump = (o: JumpOperation, target: number): Instruction =>
      fromX
        ? o.reg32(REG_A, REG_X, this.ref(this.blockLabel(target)))
        : o.imm32(REG_A, k, this.ref(this.blockLabel(target)));
    if (t === f) {
      if (t !== nextId) this.emit(Ja(this.ref(this.blockLabel(t))));
    } else if (f === nextId) {
      this.emit(jump(op, t));
    } else if (t === nextId && inverse) {
      this.emit(jump(inverse, f));
    } else {
      this.emit(jump(op, t));
      this.emit(Ja(this.ref(this.blockLabel(f))));
    }
  }

  /** A load of `size` bytes at constant offset `k` into `dst`, big-endian to host order. */
  private loadAbsolute(dst: typeof REG_A, k: number, size: number): void {
    if (this.copied) {
      this.loadCopy(dst, this.buffer + k, size);
      return;
    }
    if (k <= 0x7fff) {
      this.emit(LoadMem(dst, REG_START, k, SIZE[size]!));
    } else {
      this.emit(Mov.reg(REG_P, REG_START));
      this.emit(Add.imm(REG_P, k));
      this.emit(LoadMem(dst, REG_P, 0, SIZE[size]!));
    }
    if (size > 1) this.emit(toBE(dst, size === 2 ? 16 : 32));
  }

  /**
   * A big-endian load from the stack copy at frame offset `off`. The verifier insists on
   * naturally aligned stack accesses, so a misaligned word or half word is assembled from
   * aligned halves or bytes (the copy's placement makes the common offsets aligned).
   */
  private loadCopy(dst: typeof REG_A, off: number, size: number, base: typeof REG_A = R10): void {
    const aligned = (n: number): boolean => base === R10 && ((off % n) + n) % n === 0;
    if (size === 1) {
      this.emit(LoadMem(dst, base, off, 'u8'));
    } else if (aligned(size)) {
      this.emit(LoadMem(dst, base, off, SIZE[size]!));
      this.emit(toBE(dst, size === 2 ? 16 : 32));
    } else if (size === 4 && aligned(2)) {
      this.emit(LoadMem(dst, base, off, 'u16'));
      this.emit(toBE(dst, 16));
      this.emit(LSh.imm32(dst, 16));
      this.emit(LoadMem(REG_T, base, off + 2, 'u16'));
      this.emit(toBE(REG_T, 16));
      this.emit(Or.reg32(dst, REG_T));
    } else {
      this.emit(LoadMem(dst, base, off, 'u8'));
      for (let i = 1; i < size; i++) {
        this.emit(LSh.imm32(dst, 8));
        this.emit(LoadMem(REG_T, base, off + i, 'u8'));
        this.emit(Or.reg32(dst, REG_T));
      }
    }
  }

  private loadIndirect(k: number, size: number): void {
    const limit = this.reach - k - size;
    if (limit < 0) {
      this.emit(Ja(this.reject()));
      return;
    }
    if (this.copied) {
      // T = X + k + size starts from the constant, not from a copy of X: newer verifiers link a
      // copy to its source with the constant delta and narrow X from `T <= END` too; on 6.12
      // that left X with impossible bounds (umin > umax, 'REG INVARIANTS VIOLATION') on a loop
      // path, and fp + X became a plain scalar ('R5 invalid mem access'). Unlinked, X keeps
      // the bounds of its own check below.
      this.emit(Mov.imm(REG_T, k + size));
      this.emit(Add.reg(REG_T, REG_X));
      this.emit(JGT.reg(REG_T, REG_END, this.reject()));
      // Bound X right before the pointer arithmetic (for cBPF, past the limit is past the copy).
      this.emit(JGT.imm(REG_X, limit, this.reject()));
      this.emit(Mov.reg(REG_P, R10));
      this.emit(Add.reg(REG_P, REG_X));
      this.loadCopy(REG_A, this.buffer + k, size, REG_P);
      return;
    } else {
      // Bound X for the verifier (and for cBPF: past the limit is past the packet).
      this.emit(JGT.imm(REG_X, limit, this.reject()));
      this.emit(Mov.reg(REG_P, REG_START));
      this.emit(Add.reg(REG_P, REG_X));
      if (k > 0x7fff) {
        this.emit(Add.imm(REG_P, k));
        k = 0;
      }
      this.emit(Mov.reg(REG_T, REG_P));
      this.emit(Add.imm(REG_T, k + size));
      this.emit(JGT.reg(REG_T, REG_END, this.reject()));
      this.emit(LoadMem(REG_A, REG_P, k, SIZE[size]!));
    }
    if (size > 1) this.emit(toBE(REG_A, size === 2 ? 16 : 32));
  }

  private stmt(s: CbpfInstruction): void {
    const k = s.k >>> 0;
    switch (s.code) {
      case 0x20:
      case 0x28:
      case 0x30:
        if (k + loadWidth(s.code) > this.reach) return; // unreachable: such a block always rejects
        this.loadAbsolute(REG_A, k, loadWidth(s.code));
        return;
      case 0x40:
      case 0x48:
      case 0x50:
        this.loadIndirect(k, loadWidth(s.code));
        return;
      case 0xb1:
        if (k + 1 > this.reach) return;
        this.loadAbsolute(REG_X, k, 1);
        this.emit(And.imm32(REG_X, 0xf));
        this.emit(LSh.imm32(REG_X, 2));
        return;
      case 0x80:
      case 0x81: {
        const dst = s.code === 0x80 ? REG_A : REG_X;
        if (this.copied) this.emit(LoadMem(dst, R10, this.stack.length, 'u32'));
        else {
          this.emit(Mov.reg(dst, REG_END));
          this.emit(Sub.reg(dst, REG_START));
          this.emit(Mov.reg32(dst, dst));
        }
        return;
      }
      case 0x00:
        this.emit(Mov.imm32(REG_A, k));
        return;
      case 0x01:
        this.emit(Mov.imm32(REG_X, k));
        return;
      case 0x60:
        this.emit(LoadMem(REG_A, R10, scratchOffset(this.base, k), 'u32'));
        return;
      case 0x61:
        this.emit(LoadMem(REG_X, R10, scratchOffset(this.base, k), 'u32'));
        return;
      case 0x02:
        this.emit(StoreMem(R10, scratchOffset(this.base, k), REG_A, 'u32'));
        return;
      case 0x03:
        this.emit(StoreMem(R10, scratchOffset(this.base, k), REG_X, 'u32'));
        return;
      case 0x07:
        this.emit(Mov.reg(REG_X, REG_A));
        return;
      case 0x87:
        this.emit(Mov.reg(REG_A, REG_X));
        return;
      case 0x84:
        this.emit(neg32(REG_A));
        return;
      default:
        this.alu(s.code, k);
    }
  }

  private alu(code: number, k: number): void {
    const op = code & 0xf0;
    const alu = ALU[op];
    if (!alu) throw new LoweringError(-1, `opcode 0x${code.toString(16)} has no eBPF lowering`);
    if ((code & 8) === 0) {
      this.emit(alu.imm32(REG_A, k));
      return;
    }
    if (op === 0x30 || op === 0x90) {
      // cBPF: division by zero ends the filter with 0.
      this.emit(JEq.imm(REG_X, 0, this.reject()));
      this.emit(alu.reg32(REG_A, REG_X));
    } else if (op === 0x60 || op === 0x70) {
      // libpcap: a shift by 32 or more gives 0 (eBPF would mask the count).
      this.emit(JGT.imm(REG_X, 31, 2));
      this.emit(alu.reg32(REG_A, REG_X));
      this.emit(Ja(1));
      this.emit(Mov.imm(REG_A, 0));
    } else {
      this.emit(alu.reg32(REG_A, REG_X));
    }
  }
}

/** Shift of the copy (0..7) that makes the most absolute loads naturally aligned. */
function bestShift(program: readonly CbpfInstruction[]): number {
  let best = 0;
  let bestScore = -1;
  for (let shift = 0; shift < 8; shift++) {
    let score = 0;
    for (const i of program) {
      const size = i.code === 0x20 ? 4 : i.code === 0x28 ? 2 : 0;
      if (size && ((i.k >>> 0) + shift) % size === 0) score += size;
    }
    if (score > bestScore) {
      best = shift;
      bestScore = score;
    }
  }
  return best;
}

function successorsOf(b: Block): number[] {
  const t = b.term;
  if (t.kind === 'ret') return [];
  if (t.kind === 'goto') return [t.target];
  return [t.t, t.f];
}
