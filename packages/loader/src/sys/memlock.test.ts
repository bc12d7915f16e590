import { describe, expect, it } from 'vitest';
import { BpfMap } from '../map/map.js';
import { MapType, BpfCommand } from './generated/constants.js';
import { Errno } from './errno.js';
import { FakeBackend } from './fake-backend.js';
import { kernelChargesMemlock, MemlockLimitError, removeMemlockLimit, RLIMIT_MEMLOCK } from './memlock.js';

/**
 * A fake kernel: with `charges`, creating a map needs 4 KiB of RLIMIT_MEMLOCK headroom (Linux
 * < 5.11); without, the limit is ignored (memcg accounting). `privileged` decides whether the hard
 * limit may be raised.
 */
class MemlockKernel extends FakeBackend {
  readonly raiseMemlock = true;
  constructor(
    charges: boolean,
    soft: number,
    hard: number,
    readonly privileged = true,
  ) {
    super();
    this.limits.set(RLIMIT_MEMLOCK, [soft, hard]);
    this.onBpf(BpfCommand.MAP_CREATE, () => (charges && this.soft() < 4096 ? -Errno.EPERM : 42));
  }
  soft(): number {
    return this.limits.get(RLIMIT_MEMLOCK)![0];
  }
  override setrlimit(resource: number, soft: number, hard: number): number {
    const cur = this.limits.get(resource)!;
    if (!this.privileged && hard > cur[1]) return -Errno.EPERM;
    return super.setrlimit(resource, soft, hard);
  }
}

const arrayMap = (b: FakeBackend) =>
  BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 }, { backend: b });

describe('RLIMIT_MEMLOCK', () => {
  it('detects a kernel that charges BPF memory to memlock by creating a map under a zero limit, and restores the limit', () => {
    const old = new MemlockKernel(true, 65536, 65536);
    expect(kernelChargesMemlock(old)).toBe(true);
    expect(old.limits.get(RLIMIT_MEMLOCK)).toEqual([65536, 65536]);
    const modern = new MemlockKernel(false, 65536, 65536);
    expect(kernelChargesMemlock(modern)).toBe(false);
    expect(modern.closed).toContain(42);
  });

  it('is lifted to unlimited before the first map on a kernel that charges it (as cilium/ebpf RemoveMemlock)', () => {
    const b = new MemlockKernel(true, 0, 0);
    arrayMap(b).close();
    expect(b.limits.get(RLIMIT_MEMLOCK)).toEqual([Infinity, Infinity]);
    expect(removeMemlockLimit(b)).toBe('raised');
  });

  it('is left alone where the kernel does not charge it (5.11+) or it is already unlimited', () => {
    const modern = new MemlockKernel(false, 8192, 8192);
    arrayMap(modern).close();
    expect(modern.limits.get(RLIMIT_MEMLOCK)).toEqual([8192, 8192]);
    expect(removeMemlockLimit(modern)).toBe('not-charged');
    const unlimited = new MemlockKernel(true, Infinity, Infinity);
    expect(removeMemlockLimit(unlimited)).toBe('unlimited');
    expect(unlimited.calls.filter((c) => c.op === 'bpf')).toEqual([]);
  });

  it('unprivileged, raises the soft limit to the hard one', () => {
    const b = new MemlockKernel(true, 0, 1 << 20, false);
    expect(removeMemlockLimit(b)).toBe('raised-to-hard');
    expect(b.limits.get(RLIMIT_MEMLOCK)).toEqual([1 << 20, 1 << 20]);
  });

  it('an EPERM the limit caused names RLIMIT_MEMLOCK, not privileges', () => {
    const b = new MemlockKernel(true, 0, 0, false);
    const err = (() => {
      try {
        arrayMap(b);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(MemlockLimitError);
    expect((err as Error).message).toMatch(
      /^BPF_MAP_CREATE array "": EPERM .* charges BPF memory to RLIMIT_MEMLOCK \(Linux < 5\.11\) and the limit is 0 KiB; raise it \(ulimit -l unlimited\)/,
    );
  });

  it('backends that do not ask for it (the plain fake) never touch the limit', () => {
    const b = new FakeBackend();
    arrayMap(b).close();
    expect(b.limits.has(RLIMIT_MEMLOCK)).toBe(false);
    expect(b.calls.filter((c) => c.op === 'bpf')).toHaveLength(1);
  });
});
