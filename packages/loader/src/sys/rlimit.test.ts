import { describe, expect, it } from 'vitest';
import { FakeBackend } from './fake-backend.js';
import { KoffiBackend } from './koffi-backend.js';
import { raiseOpenFileLimit } from './rlimit.js';

describe('open-file limit', () => {
  it('raises soft and hard limits as needed, never lowers them', () => {
    const fake = new FakeBackend();
    fake.limits.set(7, [1024, 4096]);
    expect(raiseOpenFileLimit(8192, fake)).toBe(8192);
    expect(fake.limits.get(7)).toEqual([8192, 8192]);
    expect(raiseOpenFileLimit(100, fake)).toBe(8192);
  });

  it('reads the real limit through libc', () => {
    const b = new KoffiBackend();
    const cur = b.getrlimit(7) as [number, number];
    expect(cur[0]).toBeGreaterThan(0);
    expect(raiseOpenFileLimit(cur[0], b)).toBe(cur[0]);
  });
});
