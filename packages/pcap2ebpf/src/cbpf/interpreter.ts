/**
 * A classic BPF interpreter with libpcap's `bpf_filter()` semantics (which are also the kernel's
 * for everything a pcap filter uses):
 * - a packet load that does not fit in the buffer makes the filter return 0 (reject);
 * - division or modulus by zero returns 0;
 * - shifts by 32 or more give 0;
 * - A, X and the 16 scratch words M[] start at 0;
 * - `ld #pktlen` is the wire length (the buffer length unless told otherwise);
 * - `ja` offsets are sign-extended, so the backward jump libpcap emits for `protochain` works.
 * The return value is the filter's: 0 rejects, anything else accepts (libpcap: snap length).
 */
import { CbpfStepLimitError } from './errors.js';
import type { CbpfInstruction } from './instruction.js';
import { BPF_MEMWORDS, SKF_AD_OFF } from './opcode.js';

/** Options of {@link runFilter}. */
export interface RunOptions {
  /** Value of `ld #pktlen`: the original length on the wire. Defaults to the buffer length. */
  wireLength?: number;
  /** Give up after this many executed instructions (a non-terminating loop). Default 1e6. */
  maxSteps?: number;
  /** Called before each instruction executes; for tracing. */
  onStep?: (step: FilterStep) => void;
}

/** The machine state just before instruction `pc` executes. */
export interface FilterStep {
  /** Index of the instruction about to execute. */
  pc: number;
  /** Accumulator. */
  a: number;
  /** Index register. */
  x: number;
}

/** Why a filter run ended. */
export type FilterOutcome = 'returned' | 'out-of-bounds' | 'division-by-zero' | 'invalid-instruction';

/** Result of {@link traceFilter}: the return value, how the run ended, and the executed steps. */
export interface FilterTrace {
  /** The filter's return value (0 = reject). */
  result: number;
  /** How the run ended. */
  outcome: FilterOutcome;
  /** Every executed instruction with the registers before it. */
  steps: FilterStep[];
}

/** Runs `program` over `packet` and returns the filter's result (0 = reject). */
export function runFilter(program: readonly CbpfInstruction[], packet: Uint8Array, options: RunOptions = {}): number {
  return execute(program, packet, options).result;
}

/** Runs `program` over `packet`, recording every executed instruction; explains a filter's verdict. */
export function traceFilter(
  program: readonly CbpfInstruction[],
  packet: Uint8Array,
  options: RunOptions = {},
): FilterTrace {
  const steps: FilterStep[] = [];
  const user = options.onStep;
  const { result, outcome } = execute(program, packet, {
    ...options,
    onStep: (s) => {
      steps.push(s);
      user?.(s);
    },
  });
  return { result, outcome, steps };
}

function execute(
  program: readonly CbpfInstruction[],
  p: Uint8Array,
  options: RunOptions,
): { result: number; outcome: FilterOutcome } {
  const buflen = p.length;
  const wirelen = (options.wireLength ?? buflen) >>> 0;
  const maxSteps = options.maxSteps ?? 1_000_000;
  const onStep = options.onStep;
  const mem = new Uint32Array(BPF_MEMWORDS);
  let a = 0;
  let x = 0;
  let pc = 0;
  const oob = { result: 0, outcome: 'out-of-bounds' as const };
  const div0 = { result: 0, outcome: 'division-by-zero' as const };
  const invalid = { result: 0, outcome: 'invalid-instruction' as const };
  for (let steps = 0; ; steps++) {
    if (steps >= maxSteps)
      throw new CbpfStepLimitError(`cBPF run exceeded ${maxSteps} steps (a loop that never ends?)`);
    const insn = program[pc];
    if (insn === undefined) return invalid;
    onStep?.({ pc, a, x });
    const k = insn.k >>> 0;
    switch (insn.code) {
      case 0x06: // ret #k
        return { result: k, outcome: 'returned' };
      case 0x16: // ret a
        return { result: a >>> 0, outcome: 'returned' };
      case 0x20: // ld [k]
        if (k > buflen || 4 > buflen - k) return oob;
        a = ((p[k]! << 24) | (p[k + 1]! << 16) | (p[k + 2]! << 8) | p[k + 3]!) >>> 0;
        break;
      case 0x28: // ldh [k]
        if (k > buflen || 2 > buflen - k) return oob;
        a = (p[k]! << 8) | p[k + 1]!;
        break;
      case 0x30: // ldb [k]
        if (k >= buflen) return oob;
        a = p[k]!;
        break;
      case 0x80: // ld #pktlen
        a = wirelen;
        break;
      case 0x81: // ldx #pktlen
        x = wirelen;
        break;
      case 0x40: // ld [x + k]
      case 0x48:
      case 0x50: {
        const size = insn.code === 0x40 ? 4 : insn.code === 0x48 ? 2 : 1;
        if (k > buflen || x > buflen - k || size > buflen - k - x) return oob;
        const at = x + k;
        if (size === 4) a = ((p[at]! << 24) | (p[at + 1]! << 16) | (p[at + 2]! << 8) | p[at + 3]!) >>> 0;
        else if (size === 2) a = (p[at]! << 8) | p[at + 1]!;
        else a = p[at]!;
        break;
      }
      case 0xb1: // ldxb 4*([k]&0xf)
        if (k >= buflen) return oob;
        x = (p[k]! & 0xf) << 2;
        break;
      case 0x00: // ld #k
        a = k;
        break;
      case 0x01: // ldx #k
        x = k;
        break;
      case 0x60: // ld M[k]
        if (k >= BPF_MEMWORDS) return invalid;
        a = mem[k]!;
        break;
      case 0x61: // ldx M[k]
        if (k >= BPF_MEMWORDS) return invalid;
        x = mem[k]!;
        break;
      case 0x02: // st M[k]
        if (k >= BPF_MEMWORDS) return invalid;
        mem[k] = a;
        break;
      case 0x03: // stx M[k]
        if (k >= BPF_MEMWORDS) return invalid;
        mem[k] = x;
        break;
      case 0x05: // ja (sign-extended, as libpcap does for protochain)
        pc += (k | 0) + 1;
        continue;
      case 0x15:
        pc += 1 + (a === k ? insn.jt : insn.jf);
        continue;
      case 0x25:
        pc += 1 + (a > k ? insn.jt : insn.jf);
        continue;
      case 0x35:
        pc += 1 + (a >= k ? insn.jt : insn.jf);
        continue;
      case 0x45:
        pc += 1 + ((a & k) !== 0 ? insn.jt : insn.jf);
        continue;
      case 0x1d:
        pc += 1 + (a === x ? insn.jt : insn.jf);
        continue;
      case 0x2d:
        pc += 1 + (a > x ? insn.jt : insn.jf);
        continue;
      case 0x3d:
        pc += 1 + (a >= x ? insn.jt : insn.jf);
        continue;
      case 0x4d:
        pc += 1 + ((a & x) !== 0 ? insn.jt : insn.jf);
        continue;
      case 0x0c:
        a = (a + x) >>> 0;
        break;
      case 0x1c:
        a = (a - x) >>> 0;
        break;
      case 0x2c:
        a = Math.imul(a, x) >>> 0;
        break;
      case 0x3c:
        if (x === 0) return div0;
        a = Math.floor(a / x) >>> 0;
        break;
      case 0x9c:
        if (x === 0) return div0;
        a = (a % x) >>> 0;
        break;
      case 0x5c:
        a = (a & x) >>> 0;
        break;
      case 0x4c:
        a = (a | x) >>> 0;
        break;
      case 0xac:
        a = (a ^ x) >>> 0;
        break;
      case 0x6c:
        a = x < 32 ? (a << x) >>> 0 : 0;
        break;
      case 0x7c:
        a = x < 32 ? a >>> x : 0;
        break;
      case 0x04:
        a = (a + k) >>> 0;
        break;
      case 0x14:
        a = (a - k) >>> 0;
        break;
      case 0x24:
        a = Math.imul(a, k) >>> 0;
        break;
      case 0x34:
        if (k === 0) return div0;
        a = Math.floor(a / k) >>> 0;
        break;
      case 0x94:
        if (k === 0) return div0;
        a = (a % k) >>> 0;
        break;
      case 0x54:
        a = (a & k) >>> 0;
        break;
      case 0x44:
        a = (a | k) >>> 0;
        break;
      case 0xa4:
        a = (a ^ k) >>> 0;
        break;
      case 0x64:
        a = k < 32 ? (a << k) >>> 0 : 0;
        break;
      case 0x74:
        a = k < 32 ? a >>> k : 0;
        break;
      case 0x84:
        a = -a >>> 0;
        break;
      case 0x07:
        x = a;
        break;
      case 0x87:
        a = x;
        break;
      default:
        return invalid;
    }
    pc++;
  }
}

/** True when `k` addresses Linux ancillary data (`SKF_AD_OFF + n`) rather than packet bytes. */
export function isAncillaryOffset(k: number): boolean {
  return k >>> 0 >= SKF_AD_OFF;
}
