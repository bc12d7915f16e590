/**
 * A linear-sweep x86-64 instruction-length decoder, enough for what the kernel's BPF JIT emits
 * (ALU and moves with any ModRM/SIB/displacement, immediates, jumps and calls, shifts including
 * BMI2's VEX-encoded shlx/sarx/shrx, atomics, fences, endbr64, multi-byte nops, int3 padding), to
 * find the direct `call rel32` targets of a JITed BPF program: the kernel functions it calls
 * (`--filter-track-bpf-helpers`).
 */

/** One decoded instruction: where it starts and how long it is. */
export interface X86Instruction {
  readonly offset: number;
  readonly length: number;
  /** For `call rel32` (E8): the target address. */
  readonly callTarget?: bigint;
}

/** The instructions of `code` (loaded at `base`) and where decoding stopped early, if it did. */
export interface X86Sweep {
  readonly instructions: X86Instruction[];
  /** Offset of the first byte that is not a known instruction (decoding stops there). */
  readonly stoppedAt?: number;
}

const enum Imm {
  None = 0,
  B = 1,
  W = 2,
  /** 4 bytes, or 2 with the operand-size prefix. */
  Z = 3,
  /** `mov r64, imm64` with REX.W: 8 bytes, else as Z. */
  V = 4,
  /** `ret imm16`, `enter`-like: 2 bytes. */
  W2 = 5,
}

/** One-byte opcode map: [has ModRM, immediate]. Undefined entries are not decoded. */
const ONE: Array<[boolean, Imm] | undefined> = new Array(256);
const TWO: Array<[boolean, Imm] | undefined> = new Array(256);

function set(table: Array<[boolean, Imm] | undefined>, from: number, to: number, modrm: boolean, imm: Imm): void {
  for (let op = from; op <= to; op++) table[op] = [modrm, imm];
}

// ALU ops 00-3F: r/m forms, then AL/eAX immediates.
for (let base = 0; base < 0x40; base += 8) {
  set(ONE, base, base + 3, true, Imm.None);
  set(ONE, base + 4, base + 4, false, Imm.B);
  set(ONE, base + 5, base + 5, false, Imm.Z);
}
set(ONE, 0x50, 0x5f, false, Imm.None); // push/pop r
set(ONE, 0x63, 0x63, true, Imm.None); // movsxd
set(ONE, 0x68, 0x68, false, Imm.Z); // push imm
set(ONE, 0x69, 0x69, true, Imm.Z); // imul r, r/m, imm
set(ONE, 0x6a, 0x6a, false, Imm.B);
set(ONE, 0x6b, 0x6b, true, Imm.B);
set(ONE, 0x70, 0x7f, false, Imm.B); // jcc rel8
set(ONE, 0x80, 0x80, true, Imm.B);
set(ONE, 0x81, 0x81, true, Imm.Z);
set(ONE, 0x83, 0x83, true, Imm.B);
set(ONE, 0x84, 0x8f, true, Imm.None); // test, xchg, mov, lea, pop r/m
set(ONE, 0x90, 0x99, false, Imm.None); // nop/xchg, cbw/cwd
set(ONE, 0x9c, 0x9d, false, Imm.None); // pushf/popf
set(ONE, 0xa8, 0xa8, false, Imm.B);
set(ONE, 0xa9, 0xa9, false, Imm.Z);
set(ONE, 0xb0, 0xb7, false, Imm.B);
set(ONE, 0xb8, 0xbf, false, Imm.V);
set(ONE, 0xc0, 0xc1, true, Imm.B); // shifts by imm8
set(ONE, 0xc2, 0xc2, false, Imm.W2);
set(ONE, 0xc3, 0xc3, false, Imm.None);
set(ONE, 0xc6, 0xc6, true, Imm.B);
set(ONE, 0xc7, 0xc7, true, Imm.Z);
set(ONE, 0xc9, 0xc9, false, Imm.None); // leave
set(ONE, 0xcc, 0xcc, false, Imm.None); // int3
set(ONE, 0xd0, 0xd3, true, Imm.None); // shifts by 1 / cl
set(ONE, 0xe8, 0xe9, false, Imm.Z); // call/jmp rel32
set(ONE, 0xeb, 0xeb, false, Imm.B);
set(ONE, 0xf4, 0xf4, false, Imm.None); // hlt
set(ONE, 0xf6, 0xf7, true, Imm.None); // test has an immediate: see below
set(ONE, 0xfe, 0xff, true, Imm.None);

set(TWO, 0x01, 0x01, true, Imm.None);
set(TWO, 0x05, 0x05, false, Imm.None); // syscall
set(TWO, 0x0b, 0x0b, false, Imm.None); // ud2
set(TWO, 0x0d, 0x0d, true, Imm.None); // prefetchw
set(TWO, 0x18, 0x1f, true, Imm.None); // prefetch, hint nops, endbr64 (F3 0F 1E FA), nop r/m
set(TWO, 0x31, 0x31, false, Imm.None); // rdtsc
set(TWO, 0x40, 0x4f, true, Imm.None); // cmovcc
set(TWO, 0x80, 0x8f, false, Imm.Z); // jcc rel32
set(TWO, 0x90, 0x9f, true, Imm.None); // setcc
set(TWO, 0xa2, 0xa2, false, Imm.None); // cpuid
set(TWO, 0xa3, 0xa3, true, Imm.None);
set(TWO, 0xa4, 0xa4, true, Imm.B);
set(TWO, 0xa5, 0xa5, true, Imm.None);
set(TWO, 0xab, 0xab, true, Imm.None);
set(TWO, 0xac, 0xac, true, Imm.B);
set(TWO, 0xad, 0xaf, true, Imm.None); // shrd cl, fences (AE), imul
set(TWO, 0xb0, 0xb1, true, Imm.None); // cmpxchg
set(TWO, 0xb3, 0xb3, true, Imm.None);
set(TWO, 0xb6, 0xb7, true, Imm.None); // movzx
set(TWO, 0xba, 0xba, true, Imm.B);
set(TWO, 0xbb, 0xbf, true, Imm.None); // btc, bsf, bsr, movsx
set(TWO, 0xc0, 0xc1, true, Imm.None); // xadd
set(TWO, 0xc8, 0xcf, false, Imm.None); // bswap

const PREFIXES = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]);

/** Length of the ModRM byte and what follows it (SIB, displacement), or -1 past the end. */
function modrmLength(code: Uint8Array, at: number): number {
  if (at >= code.length) return -1;
  const modrm = code[at]!;
  const mod = modrm >> 6;
  const rm = modrm & 7;
  let n = 1;
  if (mod !== 3 && rm === 4) {
    if (at + 1 >= code.length) return -1;
    const base = code[at + 1]! & 7;
    n += 1;
    if (mod === 0 && base === 5) n += 4;
  }
  if (mod === 0 && rm === 5)
    n += 4; // RIP-relative
  else if (mod === 1) n += 1;
  else if (mod === 2) n += 4;
  return n;
}

/** Length of the instruction at `at`, or -1 if it is not one this decoder knows. */
export function instructionLength(code: Uint8Array, at: number): number {
  let i = at;
  let opsize16 = false;
  while (i < code.length && PREFIXES.has(code[i]!)) {
    if (code[i] === 0x66) opsize16 = true;
    i++;
  }
  let rexW = false;
  if (i < code.length && (code[i]! & 0xf0) === 0x40) {
    rexW = (code[i]! & 8) !== 0;
    i++;
  }
  if (i >= code.length) return -1;
  const op = code[i++]!;
  let entry: [boolean, Imm] | undefined;
  let extraImm = 0;
  if (op === 0xc4 || op === 0xc5) {
    // VEX (BMI2 shifts, etc.): C4 has two payload bytes (map in the low 5 bits), C5 one (map 0F).
    const map = op === 0xc4 ? code[i]! & 0x1f : 1;
    i += op === 0xc4 ? 2 : 1;
    i += 1; // the opcode
    if (i > code.length || map < 1 || map > 3) return -1;
    const m = modrmLength(code, i);
    if (m < 0) return -1;
    i += m + (map === 3 ? 1 : 0);
    return i <= code.length ? i - at : -1;
  }
  if (op === 0x0f) {
    if (i >= code.length) return -1;
    const op2 = code[i++]!;
    if (op2 === 0x38 || op2 === 0x3a) {
      i += 1; // third opcode byte
      const m = modrmLength(code, i);
      if (m < 0) return -1;
      i += m + (op2 === 0x3a ? 1 : 0);
      return i <= code.length ? i - at : -1;
    }
    entry = TWO[op2];
  } else {
    entry = ONE[op];
    if (op === 0xf6 || op === 0xf7) {
      // test r/m, imm: only for ModRM.reg 0 and 1.
      if (i >= code.length) return -1;
      const reg = (code[i]! >> 3) & 7;
      if (reg <= 1) extraImm = op === 0xf6 ? 1 : opsize16 ? 2 : 4;
    }
  }
  if (!entry) return -1;
  const [hasModrm, imm] = entry;
  if (hasModrm) {
    const m = modrmLength(code, i);
    if (m < 0) return -1;
    i += m;
  }
  switch (imm) {
    case Imm.B:
      i += 1;
      break;
    case Imm.W:
    case Imm.W2:
      i += 2;
      break;
    case Imm.Z:
      i += opsize16 ? 2 : 4;
      break;
    case Imm.V:
      i += rexW ? 8 : opsize16 ? 2 : 4;
      break;
    case Imm.None:
      break;
  }
  i += extraImm;
  return i <= code.length ? i - at : -1;
}

/** Decodes `code`, loaded at address `base`, from its start until its end or an unknown byte. */
export function sweep(code: Uint8Array, base: bigint): X86Sweep {
  const instructions: X86Instruction[] = [];
  const view = new DataView(code.buffer, code.byteOffset, code.byteLength);
  let at = 0;
  while (at < code.length) {
    const n = instructionLength(code, at);
    if (n < 0) return { instructions, stoppedAt: at };
    if (code[at] === 0xe8 && n === 5) {
      const target = base + BigInt(at + 5) + BigInt(view.getInt32(at + 1, true));
      instructions.push({ offset: at, length: n, callTarget: BigInt.asUintN(64, target) });
    } else {
      instructions.push({ offset: at, length: n });
    }
    at += n;
  }
  return { instructions };
}

/**
 * The targets of the direct calls in `code` (loaded at `base`), in order, without repeats. A
 * byte the decoder does not know is skipped and decoding resumes after it (as upstream does), so
 * one odd instruction cannot hide the calls after it; callers keep only targets that are symbols.
 */
export function directCallTargets(code: Uint8Array, base: bigint): bigint[] {
  const seen = new Set<bigint>();
  let at = 0;
  while (at < code.length) {
    const r = sweep(code.subarray(at), base + BigInt(at));
    for (const insn of r.instructions) if (insn.callTarget !== undefined) seen.add(insn.callTarget);
    if (r.stoppedAt === undefined) break;
    at += r.stoppedAt + 1;
  }
  return [...seen];
}
