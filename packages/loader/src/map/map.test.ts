import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BpfMap, sumPerCpuCounter } from './map.js';
import { MapFlag, UpdateFlag } from './spec.js';
import { MapType } from '../sys/generated/constants.js';
import { possibleCpus } from '../sys/cpus.js';
import { BusyError, PermissionError } from '../errors.js';

const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (n: bigint) => new Uint8Array(new BigUint64Array([n]).buffer);
const asU32 = (b: Uint8Array | undefined) => (b ? new DataView(b.buffer, b.byteOffset).getUint32(0, true) : undefined);

describe('maps on the running kernel', () => {
  it('a hash map stores, updates, iterates and deletes entries', () => {
    using m = BpfMap.create({ type: MapType.HASH, name: 'ts_hash', keySize: 4, valueSize: 4, maxEntries: 16 });
    for (let i = 1; i <= 5; i++) m.update(i, u32(i * 10));
    expect(asU32(m.lookup(3))).toBe(30);
    m.update(3, u32(33), UpdateFlag.EXIST);
    expect(asU32(m.lookup(3))).toBe(33);
    expect(() => m.update(3, u32(1), UpdateFlag.NOEXIST)).toThrow(BusyError);
    expect([...m.keys()].map(asU32).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(new Map([...m.entries()].map(([k, v]) => [asU32(k), asU32(v)])).get(5)).toBe(50);
    expect(m.delete(2)).toBe(true);
    expect(m.delete(2)).toBe(false);
    expect(m.lookup(2)).toBeUndefined();
    const info = m.info();
    expect(info).toMatchObject({ type: MapType.HASH, keySize: 4, valueSize: 4, maxEntries: 16, name: 'ts_hash' });
    expect(info.id).toBeGreaterThan(0);
  });

  it('an array map has every index and rejects indices past max_entries', () => {
    using m = BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 4 });
    expect(m.lookup(3)).toEqual(new Uint8Array(8));
    m.update(1, u64(0x1122334455667788n));
    expect(m.lookup(1)).toEqual(u64(0x1122334455667788n));
    expect(() => m.update(4, u64(1n))).toThrow(/E2BIG|EINVAL/);
    const out = new Uint8Array(8);
    expect(m.lookupInto(1, out)).toBe(true);
    expect(out).toEqual(u64(0x1122334455667788n));
  });

  it('batch update and lookup move many entries per syscall', () => {
    using m = BpfMap.create({ type: MapType.HASH, keySize: 4, valueSize: 4, maxEntries: 1000 });
    const entries = Array.from({ length: 700 }, (_, i) => [i, u32(i * 2)] as const);
    expect(m.updateBatch(entries)).toBe(700);
    const got = m.lookupBatch({ batchSize: 64 });
    expect(got).toHaveLength(700);
    expect(new Set(got.map(([k, v]) => asU32(v)! - 2 * asU32(k)!))).toEqual(new Set([0]));
    expect(m.deleteBatch([1, 2, 3])).toBe(3);
    expect(m.lookup(2)).toBeUndefined();
    expect(m.lookupBatch({ deleteAfter: true })).toHaveLength(697);
    expect(m.nextKey()).toBeUndefined();
  });

  it('per-CPU maps return one value per possible CPU and counters sum across CPUs', () => {
    using m = BpfMap.create({ type: MapType.PERCPU_ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
    const cpus = possibleCpus();
    m.updatePerCpu(
      0,
      Array.from({ length: cpus }, (_, i) => u64(BigInt(i + 1))),
    );
    expect(m.lookupPerCpu(0)).toHaveLength(cpus);
    expect(sumPerCpuCounter(m, 0)).toBe(BigInt((cpus * (cpus + 1)) / 2));
  });

  it('a queue pops in FIFO order and a stack in LIFO order', () => {
    using q = BpfMap.create({ type: MapType.QUEUE, keySize: 0, valueSize: 4, maxEntries: 2 });
    q.push(u32(1));
    q.push(u32(2));
    expect(() => q.push(u32(3))).toThrow(/full/);
    q.push(u32(3), UpdateFlag.EXIST); // evicts the oldest
    expect(asU32(q.peek())).toBe(2);
    expect([asU32(q.pop()), asU32(q.pop()), q.pop()]).toEqual([2, 3, undefined]);
    using s = BpfMap.create({ type: MapType.STACK, keySize: 0, valueSize: 4, maxEntries: 4 });
    s.push(u32(1));
    s.push(u32(2));
    expect([asU32(s.pop()), asU32(s.pop())]).toEqual([2, 1]);
  });

  it('creates every map type pwru and tracers use', () => {
    const specs = [
      { type: MapType.PERCPU_HASH, keySize: 8, valueSize: 8, maxEntries: 8 },
      { type: MapType.LRU_HASH, keySize: 8, valueSize: 8, maxEntries: 8 },
      { type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 * 4 },
      { type: MapType.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: possibleCpus() },
      { type: MapType.STACK_TRACE, keySize: 4, valueSize: 8 * 50, maxEntries: 16 },
      { type: MapType.PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 4 },
    ];
    for (const s of specs) {
      using m = BpfMap.create(s);
      expect(m.info().type).toBe(s.type);
    }
    using inner = BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
    using outer = BpfMap.create({
      type: MapType.ARRAY_OF_MAPS,
      keySize: 4,
      valueSize: 4,
      maxEntries: 2,
      innerMap: inner,
    });
    outer.update(0, u32(inner.fd));
    expect(asU32(outer.lookup(0))).toBe(inner.info().id);
  });

  it('a frozen read-only config map keeps its contents and refuses writes', () => {
    using cfg = BpfMap.create({
      type: MapType.ARRAY,
      name: '.rodata',
      keySize: 4,
      valueSize: 4,
      maxEntries: 1,
      flags: MapFlag.RDONLY_PROG,
      contents: [[0, u32(7)]],
      freeze: true,
    });
    expect(asU32(cfg.lookup(0))).toBe(7);
    expect(() => cfg.update(0, u32(8))).toThrow(PermissionError);
  });

  it('pins, opens pinned, and opens by id', () => {
    // A private bpffs mount, so the test touches nothing shared (and needs no /sys/fs/bpf).
    const dir = mkdtempSync(join(tmpdir(), 'bpfts-fs-'));
    execFileSync('mount', ['-t', 'bpf', 'bpf', dir]);
    try {
      using m = BpfMap.create({ type: MapType.HASH, name: 'pinned', keySize: 4, valueSize: 4, maxEntries: 4 });
      m.update(1, u32(99));
      m.pin(`${dir}/m`);
      using again = BpfMap.fromPinned(`${dir}/m`);
      expect(asU32(again.lookup(1))).toBe(99);
      using byId = BpfMap.fromId(m.info().id);
      expect(byId.name).toBe('pinned');
      expect(() => BpfMap.fromPinned(`${dir}/missing`)).toThrow(/nothing is pinned there/);
    } finally {
      execFileSync('umount', [dir]);
      rmdirSync(dir);
    }
  });
});
