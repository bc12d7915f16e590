import { describe, expect, it } from 'vitest';
import { ProgressBar } from './progress.js';

describe('ProgressBar', () => {
  it('draws pb v3 default layout: counters, bar, percent, speed', () => {
    let t = 0;
    const out: string[] = [];
    const bar = new ProgressBar(
      30,
      (s) => out.push(s),
      false,
      60,
      () => t,
    );
    bar.add(15);
    t = 1000;
    expect(bar.render()).toBe(`15 / 30 [${'-'.repeat(18)}>${'_'.repeat(17)}] 50.00% 15 p/s`);
    expect(bar.render().length).toBe(60);
    bar.add(15);
    bar.finish();
    expect(out).toEqual([`30 / 30 [${'-'.repeat(35)}] 100.00% 30 p/s\n`]);
  });

  it('shows ? p/s when everything happened at once (kprobe-multi)', () => {
    const bar = new ProgressBar(
      1480,
      () => {},
      false,
      70,
      () => 0,
    );
    bar.add(1480);
    expect(bar.render()).toMatch(/^1480 \/ 1480 \[-+\] 100\.00% \? p\/s$/);
  });

  it('redraws in place on a terminal', () => {
    const out: string[] = [];
    const bar = new ProgressBar(
      2,
      (s) => out.push(s),
      true,
      40,
      () => 0,
    );
    bar.finish();
    expect(out[0]!.startsWith('\r0 / 2 [')).toBe(true);
    expect(out[1]!.endsWith('\n')).toBe(true);
  });
});
