/** fast-check generators of valid eBPF instructions, for property tests. */
import fc from 'fast-check';
import { Instruction } from '../src/instruction.js';
import { LD_IMM64 } from '../src/opcode.js';
import type { Register } from '../src/register.js';
import { checkInstruction } from '../src/validate.js';

const IMM_CANDIDATES = [0, 16, 32, 64, 0x00, 0x40, 0x50, 0xa0, 0x01, 0x41, 0x51, 0xa1, 0xe1, 0xf1, 0x100, 0x110];
const OFFSET_CANDIDATES = [0, 1, 8, 16, 32];

/** Every opcode byte the validator accepts with some choice of the other fields. */
export const VALID_OPCODES: number[] = Array.from({ length: 256 }, (_, op) => op).filter((op) =>
  [0, 1, 2].some((src) =>
    OFFSET_CANDIDATES.some((off) => IMM_CANDIDATES.some((imm) => checkInstruction(op, 0, src, off, imm) === undefined)),
  ),
);

interface Raw {
  opcode: number;
  dst: number;
  src: number;
  offset: number;
  imm: number;
  high: number;
  pick: number;
}

/**
 * Turn random fields into a valid instruction of the chosen opcode, keeping as many of the
 * random values as the opcode allows (reserved fields become 0 or an allowed value).
 */
function repair(r: Raw): Instruction {
  const srcs = [r.src, 0, r.pick % 3, r.pick % 7];
  const offsets = [r.offset, 0, r.pick % 2, OFFSET_CANDIDATES[r.pick % 5]!];
  const imms = [
    r.imm,
    0,
    IMM_CANDIDATES[r.pick % IMM_CANDIDATES.length]!,
    [16, 32, 64][r.pick % 3]!,
    IMM_CANDIDATES[4 + (r.pick % 12)]!,
    r.pick % 2 === 0 ? 0x100 : 0x110,
  ];
  for (const dst of [r.dst, 0]) {
    for (const src of srcs) {
      for (const offset of offsets) {
        for (const imm of imms) {
          if (checkInstruction(r.opcode, dst, src, offset, imm) !== undefined) continue;
          if (r.opcode === LD_IMM64) {
            const constant = (BigInt(r.high) << 32n) | BigInt(imm >>> 0);
            return new Instruction(r.opcode, dst as Register, src as Register, offset, imm, constant);
          }
          return new Instruction(r.opcode, dst as Register, src as Register, offset, imm);
        }
      }
    }
  }
  throw new Error(`no valid fields for opcode 0x${r.opcode.toString(16)}`);
}

const int32 = fc.oneof(
  fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  fc.constantFrom(0, 1, -1, 0x7fffffff, -0x80000000),
);
const int16 = fc.oneof(fc.integer({ min: -0x8000, max: 0x7fff }), fc.constantFrom(0, 1, -1, 0x7fff, -0x8000));

/** A random valid instruction (any of the 128 opcodes, random fields where the opcode allows). */
export function arbitraryInstruction(): fc.Arbitrary<Instruction> {
  return fc
    .record({
      opcode: fc.constantFrom(...VALID_OPCODES),
      dst: fc.integer({ min: 0, max: 10 }),
      src: fc.integer({ min: 0, max: 10 }),
      offset: int16,
      imm: int32,
      high: int32,
      pick: fc.nat(),
    })
    .map(repair);
}

/**
 * A random valid program with labels, comments and jumps that refer to labels by name (the
 * shape generators produce), so text round trips and linking see metadata too.
 */
export function arbitraryLabelledProgram(): fc.Arbitrary<Instruction[]> {
  return fc
    .record({
      insns: fc.array(arbitraryInstruction(), { minLength: 1, maxLength: 24 }),
      labelled: fc.array(fc.boolean(), { minLength: 24, maxLength: 24 }),
      comments: fc.array(fc.option(fc.stringMatching(/^[a-z][a-z0-9 ,.:=-]{0,20}[a-z0-9]$/), { nil: undefined }), {
        minLength: 24,
        maxLength: 24,
      }),
      picks: fc.array(fc.nat(), { minLength: 24, maxLength: 24 }),
    })
    .map(({ insns, labelled, comments, picks }) => {
      labelled[0] = true; // at least one label to jump to
      const labels = insns
        .map((_, i) => (labelled[i] ? `L${i}` : undefined))
        .filter((l): l is string => l !== undefined);
      return insns.map((insn, i) => {
        let out = insn;
        if (labelled[i]) out = out.withSymbol(`L${i}`);
        if (comments[i] !== undefined) out = out.withComment(comments[i]);
        // Conditional and 16-bit unconditional jumps go to a random label instead of a raw offset.
        if (insn.isJump && !insn.isLongJump)
          out = out.withFields({ offset: 0 }).withReference(labels[picks[i]! % labels.length]);
        return out;
      });
    });
}
