import { describe, expect, it } from 'vitest';
import { fromTuples, jmpK, ldAbs, ldImm, retK, aluK } from './instruction.js';
import { runFilter } from './interpreter.js';
import { optimize } from './optimize.js';
import { BPF_AND, BPF_JEQ } from './opcode.js';
import { formatListing } from './print.js';
import { LINKTYPES, loadPackets, loadRecords } from './test-corpus.js';

describe('optimize on small programs', () => {
  it('folds a constant test to a single return', () => {
    // `1 = 1` unoptimized: ld #1; st; ... jeq → ret
    expect(optimize([ldImm(1), jmpK(BPF_JEQ, 1, 0, 1), retK(7), retK(0)])).toEqual([retK(7)]);
  });

  it('drops a load whose value is masked away, as libpcap does (net 0.0.0.0/0)', () => {
    const program = [ldAbs('W', 26), aluK(BPF_AND, 0), jmpK(BPF_JEQ, 0, 0, 1), retK(1), retK(0)];
    expect(optimize(program)).toEqual([retK(1)]);
  });

  it('loads the ethertype once for several tests and shares one ret #0', () => {
    const program = fromTuples([
      [40, 0, 0, 12],
      [21, 0, 3, 0x800], // ip?
      [40, 0, 0, 12],
      [21, 0, 1, 0x800], // again (dominated: always true)
      [6, 0, 0, 1],
      [6, 0, 0, 0],
    ]);
    expect(formatListing(optimize(program))).toEqual([
      '(000) ldh      [12]',
      '(001) jeq      #0x800           jt 2\tjf 3',
      '(002) ret      #1',
      '(003) ret      #0',
    ]);
  });

  it("takes programs longer than the kernel limit (libpcap's unoptimized code for long filters) and shortens them", () => {
    // `ether proto 1 or ether proto 2 or …` unoptimized: a reload of [12] before each of 1500
    // tests, and a `ja` to the far accept after each (conditional offsets only reach 255).
    const n = 1500;
    const accept = 3 * n + 1;
    const program = fromTuples([
      ...Array.from({ length: n }, (_, i) => [
        [40, 0, 0, 12],
        [21, 0, 1, i + 1],
        [5, 0, 0, accept - (3 * i + 3)],
      ]).flat(),
      [6, 0, 0, 0],
      [6, 0, 0, 1],
    ]);
    expect(program.length).toBeGreaterThan(4096);
    const opt = optimize(program);
    expect(opt.length).toBeLessThan(program.length);
    expect(opt.filter((i) => i.code === 0x28)).toHaveLength(1);
    for (const type of [1, 7, 1500, 1501, 0x800]) {
      const frame = new Uint8Array(20);
      frame[12] = type >> 8;
      frame[13] = type & 0xff;
      expect(runFilter(opt, frame)).toBe(runFilter(program, frame));
    }
  });

  it('returns a protochain-style loop unchanged', () => {
    const loop = fromTuples([
      [0, 0, 0, 3],
      [21, 2, 0, 0],
      [20, 0, 0, 1],
      [5, 0, 0, 0xfffffffd],
      [6, 0, 0, 9],
    ]);
    expect(optimize(loop)).toEqual(loop);
  });
});

describe.each(LINKTYPES)('optimize over the corpus (%s), from libpcap unoptimized programs', (linktype) => {
  const records = loadRecords(linktype).filter((r) => r.noopt_valid && r.cbpf_noopt_raw && !r.match_error);
  const packets = loadPackets(linktype);
  const results = records.map((r) => ({ r, opt: optimize(fromTuples(r.cbpf_noopt_raw!)) }));
  const accepted = (program: ReturnType<typeof optimize>) =>
    packets.filter((p) => runFilter(program, p.bytes) !== 0).map((p) => p.index);

  it('accepts exactly libpcap-optimized `matches` on every valid record (truncation effects included)', () => {
    for (const { r, opt } of results) if (r.valid) expect(accepted(opt), r.expr).toEqual(r.matches);
  });

  it('rejects every packet where libpcap says "expression rejects all packets"', () => {
    for (const { r, opt } of results) if (!r.valid) expect(accepted(opt), r.expr).toEqual([]);
  });

  it('is never longer than libpcap on any valid record, and shorter in total', () => {
    const valid = results.filter(({ r }) => r.valid);
    const notLonger = valid.filter(({ r, opt }) => opt.length <= r.insn_count_opt!).length;
    const ours = valid.reduce((n, { opt }) => n + opt.length, 0);
    const theirs = valid.reduce((n, { r }) => n + r.insn_count_opt!, 0);
    console.log(
      `${linktype}: ${notLonger}/${valid.length} no longer than libpcap; ${ours} vs ${theirs} instructions in total`,
    );
    expect(valid.filter(({ r, opt }) => opt.length > r.insn_count_opt!).map(({ r }) => r.expr)).toEqual([]);
    expect(notLonger).toBe(valid.length);
    expect(ours).toBeLessThan(theirs);
  });

  it('reproduces libpcap listings exactly for most records (stretch goal, reported)', () => {
    const valid = results.filter(({ r }) => r.valid);
    const exact = valid.filter(
      ({ r, opt }) => JSON.stringify(formatListing(opt)) === JSON.stringify(r.cbpf_opt),
    ).length;
    console.log(`${linktype}: ${exact}/${valid.length} optimized listings identical to libpcap's`);
    expect(exact / valid.length).toBeGreaterThan(0.96);
  });
});
