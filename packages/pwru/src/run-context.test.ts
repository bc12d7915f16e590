import { describe, expect, it } from 'vitest';
import { monotonicToWallClock } from './run-context.js';

describe('monotonicToWallClock', () => {
  it('maps CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns) to the wall clock of that instant', () => {
    const toWall = monotonicToWallClock();
    const nowNs = Number(process.hrtime.bigint());
    // Within a second of Date.now() for "now"; the tolerance only absorbs the two clock reads.
    expect(Math.abs(toWall(nowNs) - Date.now())).toBeLessThan(1000);
    // An event one hour earlier in monotonic time is one hour earlier on the wall clock.
    expect(toWall(nowNs) - toWall(nowNs - 3600e9)).toBeCloseTo(3600e3, 3);
  });
});
