import {
  Add,
  And,
  call,
  exit,
  Helper,
  type Instruction,
  Ja,
  JEq,
  LoadMem,
  Mov,
  R0,
  R1,
  R10,
  R2,
  R3,
  type MemSize,
  type Register,
} from 'bpf-asm-ts';

const SIZES: Record<number, MemSize> = { 1: 'u8', 2: 'u16', 4: 'u32', 8: 'u64' };

/** The memory size code for a byte width. */
export function memSize(bytes: number): MemSize {
  const s = SIZES[bytes];
  if (!s) throw new RangeError(`no load of ${bytes} bytes`);
  return s;
}

/**
 * Collects instructions with labels and provenance comments. Labels are attached to the next
 * emitted instruction; `fresh()` makes unique ones so fragments can be composed.
 */
export class Emitter {
  readonly insns: Instruction[] = [];
  private pending: string[] = [];
  private counter = 0;
  private comment?: string;

  constructor(private readonly prefix = 'L') {}

  /** A label no other fragment uses. */
  fresh(hint: string): string {
    return `${this.prefix}_${hint}_${this.counter++}`;
  }

  /** Attaches `label` to the next instruction. */
  label(label: string): this {
    this.pending.push(label);
    return this;
  }

  /** Sets the provenance comment for the instructions that follow. */
  section(comment: string): this {
    this.comment = comment;
    return this;
  }

  /** Appends instructions. */
  emit(...insns: Instruction[]): this {
    for (let insn of insns) {
      if (this.pending.length > 0) {
        // Several labels on one spot: chain them through no-op jumps (`goto +0`) so each is defined once.
        while (this.pending.length > 1)
          this.insns.push(Ja(0).withSymbol(this.pending.shift()!).withComment(this.comment));
        insn = insn.withSymbol(this.pending.shift()!);
      }
      if (this.comment !== undefined && insn.comment === undefined) insn = insn.withComment(this.comment);
      this.insns.push(insn);
    }
    return this;
  }

  /** `bpf_probe_read_kernel(fp + stackOff, size, src + srcOff)`; clobbers r0-r5. */
  probeRead(stackOff: number, size: number, src: Register, srcOff = 0): this {
    if (src !== R3) this.emit(Mov.reg(R3, src));
    if (srcOff !== 0) this.emit(Add.imm(R3, srcOff));
    return this.emit(Mov.reg(R1, R10), Add.imm(R1, stackOff), Mov.imm(R2, size), call(Helper.probe_read_kernel));
  }

  /** `dst = *(size *)(fp + stackOff)`. */
  loadStack(dst: Register, stackOff: number, size: number): this {
    return this.emit(LoadMem(dst, R10, stackOff, memSize(size)));
  }

  /** Reads `size` bytes at `src + srcOff` from kernel memory into `dst` through a stack slot. */
  readKernel(dst: Register, src: Register, srcOff: number, size: number, scratch: number): this {
    this.probeRead(scratch, size, src, srcOff);
    return this.loadStack(dst, scratch, size);
  }

  /** `if reg == 0 goto label`. */
  ifZero(reg: Register, label: string): this {
    return this.emit(JEq.imm(reg, 0, label));
  }

  /** `dst &= mask` for a 64-bit mask that is ~small (clears the low bits). */
  clearLowBits(dst: Register, bits: number): this {
    return this.emit(And.imm(dst, ~((1 << bits) - 1)));
  }

  /** `r0 = value; exit`. */
  ret(value: number): this {
    return this.emit(Mov.imm(R0, value), exit());
  }
}
