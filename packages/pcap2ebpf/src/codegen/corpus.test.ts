/**
 * The contract: libpcap 1.10's own answers for every corpus expression (test/corpus), on
 * both link types. Names resolve from the corpus's env/ files, as they did when it was recorded.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runFilter } from '../cbpf/interpreter.js';
import {
  corpusCompileOptions,
  loadPackets,
  loadRecords,
  type CorpusRecord as BaseRecord,
} from '../cbpf/test-corpus.js';
import { compileFilter } from '../compile.js';
import { FilterError } from '../lang/errors.js';

/** A corpus record with the unoptimized compile's error message. */
type CorpusRecord = BaseRecord & { noopt_error?: string };

interface Outcome {
  record: CorpusRecord;
  /** Unoptimized compile: program as [code, jt, jf, k] tuples, or the error. */
  noopt: { raw?: number[][]; matches?: number[]; error?: FilterError };
  /** Optimized compile (pwru's mode). */
  opt: { matches?: number[]; length?: number; error?: FilterError };
}

const summaries: string[] = [];

for (const linktype of ['EN10MB', 'RAW'] as const) {
  describe(`corpus, ${linktype}`, () => {
    const outcomes: Outcome[] = [];

    beforeAll(() => {
      const packets = loadPackets(linktype);
      const run = (prog: ReturnType<typeof compileFilter>['instructions']): number[] =>
        packets.filter((p) => runFilter(prog, p.bytes) !== 0).map((p) => p.index);
      for (const record of loadRecords(linktype)) {
        const o: Outcome = { record, noopt: {}, opt: {} };
        try {
          const c = compileFilter(record.expr, corpusCompileOptions(linktype, false));
          o.noopt.raw = c.instructions.map((i) => [i.code, i.jt, i.jf, i.k]);
          o.noopt.matches = run(c.instructions);
        } catch (e) {
          if (!(e instanceof FilterError)) throw e;
          o.noopt.error = e;
        }
        try {
          const c = compileFilter(record.expr, corpusCompileOptions(linktype, true));
          o.opt.length = c.instructions.length;
          o.opt.matches = run(c.instructions);
        } catch (e) {
          if (!(e instanceof FilterError)) throw e;
          o.opt.error = e;
        }
        outcomes.push(o);
      }
      // Per-category agreement table, printed once per link type.
      const cats = new Map<string, { n: number; listing: number; matches: number }>();
      for (const o of outcomes) {
        if (!o.record.noopt_valid) continue;
        const c = cats.get(o.record.category) ?? { n: 0, listing: 0, matches: 0 };
        c.n++;
        if (JSON.stringify(o.noopt.raw) === JSON.stringify(o.record.cbpf_noopt_raw)) c.listing++;
        if (
          o.record.matches_noopt == null ||
          JSON.stringify(o.noopt.matches) === JSON.stringify(o.record.matches_noopt)
        )
          c.matches++;
        cats.set(o.record.category, c);
      }
      const lines = [...cats]
        .sort()
        .map(
          ([k, c]) =>
            `  ${k.padEnd(20)} ${String(c.n).padStart(3)} listing ${((100 * c.listing) / c.n).toFixed(0).padStart(3)}%  matches ${((100 * c.matches) / c.n).toFixed(0).padStart(3)}%`,
        );
      summaries.push(`${linktype} unoptimized agreement per category:\n${lines.join('\n')}`);
      console.log(summaries.at(-1));
    });

    it("rejects every expression libpcap rejects, with libpcap's message", () => {
      const wrong = outcomes
        .filter((o) => !o.record.noopt_valid)
        .filter((o) => o.noopt.error?.reason !== o.record.noopt_error)
        .map((o) => `${o.record.expr}: got ${o.noopt.error?.reason ?? 'a program'}, want ${o.record.noopt_error}`);
      expect(wrong).toEqual([]);
    });

    it('compiles every expression libpcap compiles to tcpdump -O -d, instruction for instruction', () => {
      const valid = outcomes.filter((o) => o.record.noopt_valid);
      const same = valid.filter((o) => JSON.stringify(o.noopt.raw) === JSON.stringify(o.record.cbpf_noopt_raw));
      const pct = (100 * same.length) / valid.length;
      console.log(`${linktype}: ${same.length}/${valid.length} unoptimized listings identical (${pct.toFixed(1)}%)`);
      expect(valid.filter((o) => !same.includes(o)).map((o) => o.record.expr)).toEqual([]);
    });

    it("accepts exactly the packets libpcap's unoptimized program accepts", () => {
      const wrong = outcomes
        .filter((o) => o.record.noopt_valid && o.record.matches_noopt != null)
        .filter((o) => JSON.stringify(o.noopt.matches) !== JSON.stringify(o.record.matches_noopt))
        .map((o) => o.record.expr);
      expect(wrong).toEqual([]);
    });

    it("with the optimizer (pwru's mode) compiles what libpcap compiles and accepts exactly its packets", () => {
      const validity = outcomes
        .filter((o) => o.record.valid !== (o.opt.error === undefined))
        .map((o) => `${o.record.expr}: ${o.opt.error?.reason ?? 'compiled'}`);
      const matches = outcomes
        .filter((o) => o.record.valid && o.record.matches != null)
        .filter((o) => JSON.stringify(o.opt.matches) !== JSON.stringify(o.record.matches))
        .map((o) => o.record.expr);
      const valid = outcomes.filter((o) => o.record.valid && o.opt.length !== undefined);
      const notLonger = valid.filter((o) => o.opt.length! <= o.record.insn_count_opt!).length;
      console.log(
        `${linktype}: optimized no longer than libpcap on ${notLonger}/${valid.length} (${((100 * notLonger) / valid.length).toFixed(1)}%)`,
      );
      expect({ validity, matches }).toEqual({ validity: [], matches: [] });
    });
  });
}
