import { describe, expect, it } from 'vitest';
import { buildCfg, type Cfg, linearize } from './cfg.js';
import { runFilter } from './interpreter.js';
import { fromTuples, jmpK, ldAbs, retK } from './instruction.js';
import { BPF_JEQ } from './opcode.js';
import { LINKTYPES, loadRecords } from './test-corpus.js';

describe('buildCfg / linearize', () => {
  it('splits at jump targets and returns', () => {
    const cfg = buildCfg([ldAbs('H', 12), jmpK(BPF_JEQ, 0x800, 0, 1), retK(1), retK(0)]);
    expect([...cfg.blocks.keys()]).toEqual([0, 2, 3]);
    expect(cfg.blocks.get(0)!.term).toEqual({ kind: 'branch', code: 0x15, k: 0x800, t: 2, f: 3 });
  });

  it.each(LINKTYPES)('round-trips every libpcap optimized program unchanged (%s)', (linktype) => {
    // libpcap lays out blocks in the same order, so a forward-only program comes back identical.
    for (const r of loadRecords(linktype)) {
      if (!r.cbpf_opt_raw || r.cbpf_opt_raw.some(([code, , , k]) => code === 5 && (k! | 0) < 0)) continue;
      const program = fromTuples(r.cbpf_opt_raw);
      const again = linearize(buildCfg(program));
      if (program.some((i) => i.code === 5)) expect(again.length, r.expr).toBeLessThanOrEqual(program.length);
      else expect(again, r.expr).toEqual(program);
    }
  });

  it('inserts a ja when a conditional target is more than 255 instructions away', () => {
    const cfg: Cfg = {
      entry: 0,
      blocks: new Map([
        [0, { id: 0, stmts: [ldAbs('B', 0)], term: { kind: 'branch', code: 0x15, k: 1, t: 1, f: 2 } }],
        [1, { id: 1, stmts: Array.from({ length: 300 }, () => ldAbs('B', 1)), term: { kind: 'ret', insn: retK(0) } }],
        [2, { id: 2, stmts: [], term: { kind: 'ret', insn: retK(1) } }],
      ]),
    };
    const out = linearize(cfg);
    expect(out).toHaveLength(1 + 1 + 1 + 300 + 1 + 1);
    expect(out[1]).toMatchObject({ code: 0x15, jt: 1, jf: 0 });
    expect(out[2]).toEqual({ code: 0x05, jt: 0, jf: 0, k: 301 });
    expect(runFilter(out, Uint8Array.from([1, 0]))).toBe(0);
    expect(runFilter(out, Uint8Array.from([2, 0]))).toBe(1);
  });
});
