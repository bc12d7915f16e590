import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ExpeditedRcuError, withExpeditedRcu } from './expedited-rcu.js';

// A stand-in for /sys/kernel/rcu_expedited in a temporary directory.
let dir: string | undefined;
function knob(value: string | undefined): string {
  dir = mkdtempSync(join(tmpdir(), 'rcu-knob-'));
  const path = join(dir, 'rcu_expedited');
  if (value !== undefined) writeFileSync(path, `${value}\n`);
  return path;
}
afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

describe('withExpeditedRcu', () => {
  it('switches the knob on for the duration of the work and back off afterwards', async () => {
    const path = knob('0');
    const seen = await withExpeditedRcu(async () => readFileSync(path, 'utf8'), path);
    expect(seen).toBe('1');
    expect(readFileSync(path, 'utf8')).toBe('0');
  });

  it('restores the knob when the work throws', async () => {
    const path = knob('0');
    await expect(withExpeditedRcu(async () => Promise.reject(new Error('boom')), path)).rejects.toThrow('boom');
    expect(readFileSync(path, 'utf8')).toBe('0');
  });

  it('leaves a knob that was already on untouched', async () => {
    const path = knob('1');
    await withExpeditedRcu(async () => undefined, path);
    expect(readFileSync(path, 'utf8')).toBe('1\n');
  });

  it('fails with a one-line typed error when the knob does not exist', async () => {
    const path = knob(undefined);
    await expect(withExpeditedRcu(async () => undefined, path)).rejects.toThrow(ExpeditedRcuError);
    await expect(withExpeditedRcu(async () => undefined, path)).rejects.toThrow(
      /cannot read .*rcu_expedited \(ENOENT\); detach without expediteRcu$/,
    );
  });
});
