import { describe, expect, it } from 'vitest';
import { exit, Mov, R0 } from 'bpf-asm-ts';
import { FakeBackend } from '../sys/fake-backend.js';
import { Errno } from '../sys/errno.js';
import { ProgramType } from '../sys/generated/constants.js';
import { Program } from '../prog/program.js';
import { attachKprobes, type BatchProgress } from './batch.js';

const pmu = { type: 6, retprobeBit: 0 };

describe('batch kprobe attach (fake backend)', () => {
  it('attaches what it can, classifies each failure, reports progress, and detaches everything', async () => {
    const fake = new FakeBackend();
    fake.perfResults.set('missing_fn', -Errno.ENOENT);
    fake.perfResults.set('dup_fn', -Errno.EADDRNOTAVAIL);
    fake.perfResults.set('blacklisted_fn', -Errno.EINVAL);
    const prog = Program.load({ type: ProgramType.KPROBE, instructions: [Mov.imm(R0, 0), exit()] }, { backend: fake });
    const progress: BatchProgress[] = [];
    const fns = ['a', 'missing_fn', 'b', 'dup_fn', 'blacklisted_fn', 'c'];
    const set = await attachKprobes(prog, fns, { pmu, concurrency: 3, onProgress: (p) => progress.push(p) });
    expect([...set.attached.keys()].sort()).toEqual(['a', 'b', 'c']);
    expect(Object.fromEntries(set.failures.map((f) => [f.symbol, f.reason]))).toEqual({
      missing_fn: 'not_found',
      dup_fn: 'duplicate_symbol',
      blacklisted_fn: 'not_traceable',
    });
    expect(set.failures.find((f) => f.symbol === 'missing_fn')!.error.message).toMatch(/not traceable on this kernel/);
    expect(set.summary()).toEqual({ not_found: 1, not_traceable: 1, duplicate_symbol: 1, error: 0 });
    expect(progress.at(-1)).toEqual({ done: 6, total: 6, ok: 3, failed: 3 });
    // every perf_event_open named its function through config1
    const names = fake.calls.filter((c) => c.op === 'perfEventOpen').length;
    expect(names).toBeGreaterThanOrEqual(6);
    const closedBefore = fake.closed.length;
    await set.detach();
    expect(set.size).toBe(0);
    expect(fake.closed.length - closedBefore).toBe(6); // a link fd and a perf fd per function
  });

  it('refuses a function listed twice even when both opens are in flight at once (default concurrency)', async () => {
    const fake = new FakeBackend();
    const prog = Program.load({ type: ProgramType.KPROBE, instructions: [Mov.imm(R0, 0), exit()] }, { backend: fake });
    const set = await attachKprobes(prog, ['a', 'a', 'b'], { pmu });
    expect([...set.attached.keys()].sort()).toEqual(['a', 'b']);
    expect(set.failures.map((f) => [f.symbol, f.error.message])).toEqual([
      ['a', 'kprobe a: listed twice in the batch'],
    ]);
    const opened = fake.calls.filter((c) => c.op === 'perfEventOpen').length;
    set.close();
    expect(opened).toBe(2); // the duplicate never reached the kernel
  });

  it('stops early when aborted, keeping what was attached', async () => {
    const fake = new FakeBackend();
    const prog = Program.load({ type: ProgramType.KPROBE, instructions: [Mov.imm(R0, 0), exit()] }, { backend: fake });
    const ac = new AbortController();
    const set = await attachKprobes(prog, ['a', 'b', 'c', 'd'], {
      pmu,
      concurrency: 1,
      signal: ac.signal,
      onProgress: (p) => p.done === 2 && ac.abort(),
    });
    expect(set.size).toBe(2);
    set.close();
  });
});
