/**
 * Static validity rules for classic BPF, modelled on the kernel's `bpf_check_classic()`:
 * known opcodes, scratch indices below 16, no constant division by zero or shift by 32+,
 * jumps inside the program and forward only, a `ret` at the end, and every scratch word
 * written on every path before it is read.
 *
 * libpcap itself emits one thing the kernel refuses: `protochain`'s loop jumps backwards
 * (`ja` with a negative offset, which libpcap's interpreter sign-extends). Pass
 * `allowBackwardJumps` to accept it (for the interpreter or the eBPF lowering, which supports
 * bounded loops) while still checking that every target is inside the program.
 */
import { CbpfValidationError } from './errors.js';
import type { CbpfInstruction } from './instruction.js';
import { BPF_MAXINSNS, BPF_MEMWORDS, SKF_AD_OFF } from './opcode.js';

/** Options of {@link validateProgram}. */
export interface ValidateOptions {
  /** Accept `ja` with a negative (sign-extended) offset, as libpcap's protochain needs. Default false (kernel rules). */
  allowBackwardJumps?: boolean;
  /** Accept Linux ancillary loads (`[SKF_AD_OFF + n]`, e.g. `ifindex`). Default true (the kernel does). */
  allowAncillary?: boolean;
  /** Refuse reads of a scratch word that some path has not written. Default true (the kernel does). */
  requireInitializedScratch?: boolean;
  /** Longest program accepted. Default BPF_MAXINSNS (4096), the kernel's limit. */
  maxInstructions?: number;
}

/** Every opcode the kernel's classic BPF accepts. */
export const VALID_OPCODES: ReadonlySet<number> = new Set([
  0x06,
  0x16, // ret k, ret a
  0x20,
  0x28,
  0x30,
  0x40,
  0x48,
  0x50,
  0x80,
  0x00,
  0x60, // ld
  0x01,
  0x61,
  0x81,
  0xb1, // ldx
  0x02,
  0x03, // st, stx
  0x04,
  0x14,
  0x24,
  0x34,
  0x94,
  0x54,
  0x44,
  0xa4,
  0x64,
  0x74, // alu k
  0x0c,
  0x1c,
  0x2c,
  0x3c,
  0x9c,
  0x5c,
  0x4c,
  0xac,
  0x6c,
  0x7c,
  0x84, // alu x, neg
  0x05,
  0x15,
  0x25,
  0x35,
  0x45,
  0x1d,
  0x2d,
  0x3d,
  0x4d, // jumps
  0x07,
  0x87, // tax, txa
]);

/** Successor instruction indices of instruction `pc` (empty for `ret`). */
export function successors(program: readonly CbpfInstruction[], pc: number): number[] {
  const insn = program[pc]!;
  const cls = insn.code & 7;
  if (cls === 6) return [];
  if (cls === 5) {
    if ((insn.code & 0xf0) === 0) return [pc + 1 + (insn.k | 0)];
    return insn.jt === insn.jf ? [pc + 1 + insn.jt] : [pc + 1 + insn.jt, pc + 1 + insn.jf];
  }
  return [pc + 1];
}

/** Throws a {@link CbpfValidationError} naming the first broken rule; returns nothing when valid. */
export function validateProgram(program: readonly CbpfInstruction[], options: ValidateOptions = {}): void {
  const allowBackward = options.allowBackwardJumps ?? false;
  const allowAncillary = options.allowAncillary ?? true;
  const n = program.length;
  if (n === 0) throw new CbpfValidationError(-1, 'empty program');
  const max = options.maxInstructions ?? BPF_MAXINSNS;
  if (n > max) throw new CbpfValidationError(-1, `${n} instructions, more than ${max}`);
  program.forEach((insn, pc) => {
    const { code } = insn;
    const k = insn.k >>> 0;
    if (!VALID_OPCODES.has(code)) throw new CbpfValidationError(pc, `unknown opcode 0x${code.toString(16)}`);
    if ((code === 0x60 || code === 0x61 || code === 0x02 || code === 0x03) && k >= BPF_MEMWORDS) {
      throw new CbpfValidationError(pc, `scratch index M[${k}] out of range 0..${BPF_MEMWORDS - 1}`);
    }
    if ((code === 0x34 || code === 0x94) && k === 0) throw new CbpfValidationError(pc, 'division by constant zero');
    if ((code === 0x64 || code === 0x74) && k >= 32) throw new CbpfValidationError(pc, `shift by ${k} (32 or more)`);
    if (!allowAncillary && (code === 0x20 || code === 0x28 || code === 0x30) && k >= SKF_AD_OFF) {
      throw new CbpfValidationError(pc, `ancillary load [${k | 0}] is not supported here`);
    }
    if ((code & 7) === 5) {
      if ((code & 0xf0) === 0) {
        const off = allowBackward ? k | 0 : k;
        const target = pc + 1 + off;
        if (!allowBackward && target >= n)
          throw new CbpfValidationError(pc, `jump past the last instruction (ja ${k})`);
        if (target < 0 || target >= n) throw new CbpfValidationError(pc, `jump target ${target} outside the program`);
      } else if (!(insn.jt >= 0 && insn.jt <= 255 && insn.jf >= 0 && insn.jf <= 255)) {
        throw new CbpfValidationError(pc, `jump offsets jt ${insn.jt} / jf ${insn.jf} do not fit 8 bits (use a ja)`);
      } else if (pc + 1 + insn.jt >= n || pc + 1 + insn.jf >= n) {
        throw new CbpfValidationError(pc, 'conditional jump past the last instruction');
      }
    }
  });
  const last = program[n - 1]!;
  if ((last.code & 7) !== 6 && !((last.code & 7) === 5 && (last.code & 0xf0) === 0 && allowBackward)) {
    throw new CbpfValidationError(n - 1, 'the program does not end with a return');
  }
  if (options.requireInitializedScratch ?? true) checkScratch(program);
}

/** Must-be-written analysis of scratch words (bit i = M[i] written on every path). */
function checkScratch(program: readonly CbpfInstruction[]): void {
  const n = program.length;
  const ALL = 0xffff;
  const inSets = new Array<number>(n).fill(ALL);
  inSets[0] = 0;
  const reached = new Array<boolean>(n).fill(false);
  reached[0] = true;
  const work = [0];
  while (work.length > 0) {
    const pc = work.pop()!;
    const insn = program[pc]!;
    let out = inSets[pc]!;
    if (insn.code === 0x02 || insn.code === 0x03) out |= 1 << insn.k;
    for (const s of successors(program, pc)) {
      const merged = reached[s] ? inSets[s]! & out : out;
      if (!reached[s] || merged !== inSets[s]) {
        reached[s] = true;
        inSets[s] = merged;
        work.push(s);
      }
    }
  }
  program.forEach((insn, pc) => {
    if (reached[pc] && (insn.code === 0x60 || insn.code === 0x61) && (inSets[pc]! & (1 << insn.k)) === 0) {
      throw new CbpfValidationError(pc, `reads scratch M[${insn.k}] that is not written on every path`);
    }
  });
}
