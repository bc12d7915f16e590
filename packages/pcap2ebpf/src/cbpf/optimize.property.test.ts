import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runFilter, traceFilter } from './interpreter.js';
import { optimize } from './optimize.js';
import { cbpfProgram, packet } from './test-programs.js';
import { validateProgram } from './validate.js';

describe('optimize on random programs', () => {
  it('keeps the verdict on every packet where the original program returns normally', () => {
    fc.assert(
      fc.property(cbpfProgram(), fc.array(packet(), { minLength: 12, maxLength: 12 }), (program, packets) => {
        const opt = optimize(program);
        validateProgram(opt, { requireInitializedScratch: false });
        for (const p of packets) {
          const before = traceFilter(program, p);
          // The optimizer may delete loads whose value is unused (as libpcap's does), so only
          // runs that did not abort on a load or a division by zero must keep their result.
          if (before.outcome === 'returned') expect(runFilter(opt, p)).toBe(before.result);
        }
      }),
      { numRuns: 1500, seed: 20261122 },
    );
  });

  it('is idempotent in length: optimizing twice never grows the program', () => {
    fc.assert(
      fc.property(cbpfProgram(), (program) => {
        const once = optimize(program);
        expect(optimize(once).length).toBeLessThanOrEqual(once.length);
      }),
      { numRuns: 500, seed: 7 },
    );
  });
});
