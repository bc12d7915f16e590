/**
 * Test-only generators (fast-check) of random, valid classic BPF programs and packets: every
 * opcode the kernel accepts, forward jumps in range, scratch reads before writes included.
 * Not exported from the package.
 */
import fc from 'fast-check';
import type { CbpfInstruction } from './instruction.js';

const STATEMENT_CODES = [
  0x00,
  0x00,
  0x01,
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
  0x07,
  0x87, // tax, txa
];
const JUMP_CODES = [0x15, 0x25, 0x35, 0x45, 0x1d, 0x2d, 0x3d, 0x4d];

interface RawOp {
  kind: 'stmt' | 'jump' | 'ja' | 'ret';
  code: number;
  k: number;
  t: number;
  f: number;
}

/** An operand: small values dominate so that tests and loads hit interesting cases. */
const operand = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) },
);

const rawOp: fc.Arbitrary<RawOp> = fc.oneof(
  {
    weight: 16,
    arbitrary: fc.record({
      kind: fc.constant('stmt' as const),
      code: fc.constantFrom(...STATEMENT_CODES),
      k: operand,
      t: fc.nat(),
      f: fc.nat(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('jump' as const),
      code: fc.constantFrom(...JUMP_CODES),
      k: operand,
      t: fc.nat(),
      f: fc.nat(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('ja' as const),
      code: fc.constant(0x05),
      k: fc.nat(),
      t: fc.nat(),
      f: fc.nat(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('ret' as const),
      code: fc.constantFrom(0x06, 0x16, 0x16),
      k: fc.constantFrom(0, 1, 262144),
      t: fc.nat(),
      f: fc.nat(),
    }),
  },
);

/** Makes one raw op a valid instruction at index `i` of a program of `n` instructions. */
function fix(op: RawOp, i: number, n: number): CbpfInstruction {
  const room = n - i - 2; // farthest relative target
  let k = op.k >>> 0;
  switch (op.code) {
    case 0x60:
    case 0x61:
    case 0x02:
    case 0x03:
      k %= 4; // a few scratch words, so reads often meet writes
      break;
    case 0x34:
    case 0x94:
      k = k === 0 ? 3 : k; // constant division by zero is invalid cBPF
      break;
    case 0x64:
    case 0x74:
      k %= 32;
      break;
    case 0x20:
    case 0x28:
    case 0x30:
    case 0x40:
    case 0x48:
    case 0x50:
    case 0xb1:
      k %= 48; // packet offsets near the generated packet lengths
      break;
  }
  if (op.kind === 'jump') return { code: op.code, jt: op.t % (room + 1), jf: op.f % (room + 1), k };
  if (op.kind === 'ja') return { code: 0x05, jt: 0, jf: 0, k: op.k % (room + 1) };
  return { code: op.code, jt: 0, jf: 0, k };
}

/** A random valid program of 2..`max` instructions ending in a return. */
export function cbpfProgram(max = 24): fc.Arbitrary<CbpfInstruction[]> {
  return fc
    .tuple(fc.array(rawOp, { minLength: 1, maxLength: max - 1 }), fc.constantFrom(0, 1, 262144, -1))
    .map(([ops, last]) => {
      const n = ops.length + 1;
      // Mostly `ret a`, so that the computed value itself is checked, not only the path.
      const end = last < 0 ? { code: 0x06, jt: 0, jf: 0, k: 262144 } : { code: 0x16, jt: 0, jf: 0, k: 0 };
      return [...ops.map((op, i) => fix(op, i, n)), end];
    });
}

/** A random packet of up to 64 bytes, mostly long enough for the generated loads. */
export function packet(): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 24 }) },
    { weight: 3, arbitrary: fc.uint8Array({ minLength: 40, maxLength: 64 }) },
  );
}
