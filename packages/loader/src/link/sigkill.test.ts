import { describe, expect, it } from 'vitest';
import { bpftool, built, killAttachedChild } from '../../test/sigkill.js';

if (!built) console.warn('skipping SIGKILL test: build the package first (npx tsup), the child process imports dist/');
if (!bpftool) console.warn('skipping SIGKILL test: bpftool (the oracle for what is loaded) is not installed');

describe.skipIf(!built || !bpftool)('nothing outlives the process', () => {
  it('SIGKILL of a tracer leaves no program and no link behind', async () => {
    const r = await killAttachedChild('tp_btf');
    expect(r.before).toEqual([true, true]);
    expect(r.after).toEqual([false, false]);
  });
});
