import { describe, expect, it } from 'vitest';
import { CbpfValidationError } from './errors.js';
import { aluK, fromTuples, ja, jmpK, ldAbs, ldImm, ldMem, retA, retK, st } from './instruction.js';
import { BPF_DIV, BPF_JEQ, BPF_LSH } from './opcode.js';
import { LINKTYPES, loadRecords } from './test-corpus.js';
import { validateProgram } from './validate.js';

const fails = (program: Parameters<typeof validateProgram>[0], pattern: RegExp, options = {}) => {
  expect(() => validateProgram(program, options)).toThrow(CbpfValidationError);
  expect(() => validateProgram(program, options)).toThrow(pattern);
};

describe('validateProgram (kernel rules)', () => {
  it('accepts a straight filter', () => {
    expect(() => validateProgram([ldAbs('H', 12), jmpK(BPF_JEQ, 0x800, 0, 1), retK(1), retK(0)])).not.toThrow();
  });
  it('refuses empty programs, unknown opcodes and a missing final ret', () => {
    fails([], /empty program/);
    fails([{ code: 0xff, jt: 0, jf: 0, k: 0 }, retK(0)], /instruction 0: unknown opcode 0xff/);
    fails([ldImm(1)], /does not end with a return/);
  });
  it('refuses jumps past the end', () => {
    fails([jmpK(BPF_JEQ, 1, 0, 2), retK(0), retK(1)], /conditional jump past/);
    fails([ja(5), retK(0)], /jump past the last instruction/);
    fails([{ code: 0x15, jt: 300, jf: 0, k: 0 }, ...Array.from({ length: 301 }, () => retK(0))], /do not fit 8 bits/);
  });
  it('refuses constant division by zero, big shifts and bad scratch indices', () => {
    fails([aluK(BPF_DIV, 0), retA()], /division by constant zero/);
    fails([aluK(BPF_LSH, 32), retA()], /shift by 32/);
    fails([st(16), retK(0)], /M\[16\] out of range/);
  });
  it('refuses reading scratch that one path leaves unwritten', () => {
    fails([ldAbs('B', 0), jmpK(BPF_JEQ, 1, 0, 1), st(3), ldMem(3), retA()], /instruction 3: reads scratch M\[3\]/);
    expect(() => validateProgram([ldImm(1), st(3), ldMem(3), retA()])).not.toThrow();
    expect(() =>
      validateProgram([ldAbs('B', 0), jmpK(BPF_JEQ, 1, 0, 1), st(3), ldMem(3), retA()], {
        requireInitializedScratch: false,
      }),
    ).not.toThrow();
  });
  it('refuses backward jumps unless allowed, and checks their target either way', () => {
    const loop = [ldImm(3), jmpK(BPF_JEQ, 0, 2, 0), aluK(0x10, 1), ja(-3), retK(9)];
    fails(loop, /jump past the last instruction/);
    expect(() => validateProgram(loop, { allowBackwardJumps: true })).not.toThrow();
    fails([ja(-2), retK(0)], /jump target -1 outside the program/, { allowBackwardJumps: true });
  });
  it('optionally refuses ancillary loads', () => {
    fails([ldAbs('W', 0xfffff008), retA()], /ancillary load \[-4088\]/, { allowAncillary: false });
  });
});

describe.each(LINKTYPES)('libpcap output under the rules (%s)', (linktype) => {
  it('every optimized program is valid; only protochain needs backward jumps; only geneve reads unwritten scratch', () => {
    const needsBackward = new Set<string>();
    const readsUnwritten = new Set<string>();
    for (const r of loadRecords(linktype)) {
      if (!r.cbpf_opt_raw) continue;
      const program = fromTuples(r.cbpf_opt_raw);
      expect(
        () => validateProgram(program, { allowBackwardJumps: true, requireInitializedScratch: false }),
        r.expr,
      ).not.toThrow();
      try {
        validateProgram(program, { requireInitializedScratch: false });
      } catch {
        needsBackward.add(r.expr);
      }
      try {
        validateProgram(program, { allowBackwardJumps: true });
      } catch {
        readsUnwritten.add(r.expr);
      }
    }
    expect(needsBackward.size).toBeGreaterThan(5);
    for (const e of needsBackward) expect(e).toMatch(/protochain/);
    for (const e of readsUnwritten) expect(e).toMatch(/geneve/);
  });
});
