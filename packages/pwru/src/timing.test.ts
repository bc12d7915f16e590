import { describe, expect, it } from 'vitest';
import { processStartPhases, StartupTimes } from './timing.js';

/** A clock the test moves by hand. */
function clock(start = 100): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('StartupTimes', () => {
  it('gives each phase the time since the previous end', () => {
    const c = clock();
    const times = new StartupTimes(c.now);
    c.advance(12);
    expect(times.end('btf')).toBe(12);
    c.advance(30);
    times.end('discovery');
    expect(times.list()).toEqual([
      { name: 'btf', ms: 12 },
      { name: 'discovery', ms: 30 },
    ]);
  });

  it('counts from the start it is given, not from its construction', () => {
    const c = clock(100);
    const times = new StartupTimes(c.now, 90);
    c.advance(5);
    expect(times.end('flags')).toBe(15);
  });

  it('adds up a phase ended several times, keeping its first place', () => {
    const c = clock();
    const times = new StartupTimes(c.now);
    for (const ms of [3, 4, 5]) {
      c.advance(ms);
      times.end('verifier');
      c.advance(1);
      times.end('attach');
    }
    expect(times.list()).toEqual([
      { name: 'verifier', ms: 12 },
      { name: 'attach', ms: 3 },
    ]);
  });

  it('takes time measured elsewhere without moving its clock', () => {
    const c = clock();
    const times = new StartupTimes(c.now);
    times.add('node', 40.4);
    times.add('modules', 20.2);
    c.advance(7);
    times.end('btf');
    expect(times.attrs()).toEqual({ node: 40, modules: 20, btf: 7, total: 68 });
  });
});

describe('processStartPhases', () => {
  it('splits the time before the entry module ran at the end of Node bootstrap', () => {
    expect(processStartPhases(95, { bootstrapComplete: 35 })).toEqual({ node: 35, modules: 60 });
  });

  it('reads this process when given no timeline: both phases are positive', () => {
    const p = processStartPhases(performance.now());
    expect(p.node).toBeGreaterThan(0);
    expect(p.modules).toBeGreaterThan(0);
  });
});
