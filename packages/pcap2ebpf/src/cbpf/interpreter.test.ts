import { describe, expect, it } from 'vitest';
import {
  aluK,
  aluX,
  fromTuples,
  ja,
  jmpK,
  ldAbs,
  ldImm,
  ldInd,
  ldLen,
  ldxImm,
  ldxMsh,
  retA,
  retK,
} from './instruction.js';
import { runFilter, traceFilter } from './interpreter.js';
import { BPF_DIV, BPF_JEQ, BPF_LSH, BPF_MOD } from './opcode.js';
import { LINKTYPES, loadPackets, loadRecords } from './test-corpus.js';

const bytes = (...b: number[]) => Uint8Array.from(b);

describe('runFilter semantics', () => {
  it('loads big-endian words, halves and bytes', () => {
    const p = bytes(0x12, 0x34, 0x56, 0x78, 0x9a);
    expect(runFilter([ldAbs('W', 1), retA()], p)).toBe(0x3456789a);
    expect(runFilter([ldAbs('H', 3), retA()], p)).toBe(0x789a);
    expect(runFilter([ldAbs('B', 4), retA()], p)).toBe(0x9a);
  });

  it('rejects (returns 0) on a load past the end, even under a later accept', () => {
    expect(runFilter([ldAbs('W', 2), retK(1)], bytes(1, 2, 3, 4, 5))).toBe(0);
    expect(runFilter([ldAbs('W', 1), retK(1)], bytes(1, 2, 3, 4, 5))).toBe(1);
    expect(runFilter([ldxImm(3), ldInd('H', 1), retK(1)], bytes(1, 2, 3, 4, 5))).toBe(0);
    expect(runFilter([ldxImm(0xffffffff), ldInd('B', 1), retK(1)], bytes(1, 2, 3))).toBe(0);
    expect(runFilter([ldxMsh(3), retK(1)], bytes(1, 2, 3))).toBe(0);
  });

  it('computes ldxb 4*([k]&0xf) and ld #pktlen', () => {
    expect(runFilter([ldxMsh(0), { code: 0x87, jt: 0, jf: 0, k: 0 }, retA()], bytes(0x46))).toBe(24);
    expect(runFilter([ldLen(), retA()], bytes(1, 2, 3))).toBe(3);
    expect(runFilter([ldLen(), retA()], bytes(1, 2, 3), { wireLength: 1500 })).toBe(1500);
  });

  it('returns 0 on division or modulus by zero', () => {
    expect(runFilter([ldImm(7), ldxImm(0), aluX(BPF_DIV), retK(1)], bytes())).toBe(0);
    expect(runFilter([ldImm(7), ldxImm(0), aluX(BPF_MOD), retK(1)], bytes())).toBe(0);
    expect(runFilter([ldImm(7), ldxImm(2), aluX(BPF_DIV), retA()], bytes())).toBe(3);
  });

  it('shifts by 32 or more give 0, and arithmetic wraps at 32 bits', () => {
    expect(runFilter([ldImm(1), ldxImm(40), aluX(BPF_LSH), retA()], bytes())).toBe(0);
    expect(runFilter([ldImm(0xffffffff), aluK(0, 2), retA()], bytes())).toBe(1);
  });

  it('follows a sign-extended backward ja (protochain loops)', () => {
    // A counts down from 3 to 0 through a backward jump, then returns 9.
    const program = [ldImm(3), jmpK(BPF_JEQ, 0, 2, 0), aluK(0x10, 1), ja(-3), retK(9)];
    const trace = traceFilter(program, bytes());
    expect(trace.result).toBe(9);
    expect(trace.outcome).toBe('returned');
    expect(trace.steps.map((s) => s.pc)).toEqual([0, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 4]);
  });

  it('explains an out-of-bounds rejection', () => {
    const trace = traceFilter(
      fromTuples([
        [40, 0, 0, 12],
        [21, 0, 1, 2048],
        [6, 0, 0, 1],
        [6, 0, 0, 0],
      ]),
      bytes(1, 2),
    );
    expect(trace).toMatchObject({ result: 0, outcome: 'out-of-bounds', steps: [{ pc: 0 }] });
  });
});

describe.each(LINKTYPES)('libpcap agreement over the corpus (%s)', (linktype) => {
  const records = loadRecords(linktype);
  const packets = loadPackets(linktype);

  const accepted = (raw: number[][]) => {
    const program = fromTuples(raw);
    return packets.filter((p) => runFilter(program, p.bytes) !== 0).map((p) => p.index);
  };

  it('the optimized programs accept exactly `matches`', () => {
    let checked = 0;
    for (const r of records) {
      if (!r.valid || !r.cbpf_opt_raw || r.match_error || r.matches === null) continue;
      expect(accepted(r.cbpf_opt_raw), r.expr).toEqual(r.matches);
      checked++;
    }
    expect(checked).toBeGreaterThan(450);
  });

  it('the unoptimized programs accept exactly `matches_noopt`', () => {
    let checked = 0;
    for (const r of records) {
      if (!r.noopt_valid || !r.cbpf_noopt_raw || r.match_error || !r.matches_noopt) continue;
      expect(accepted(r.cbpf_noopt_raw), r.expr).toEqual(r.matches_noopt);
      checked++;
    }
    expect(checked).toBeGreaterThan(500);
  });
});
