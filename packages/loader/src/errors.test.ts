import { describe, expect, it } from 'vitest';
import { BpfMap } from './map/map.js';
import { FakeBackend } from './sys/fake-backend.js';
import { Errno } from './sys/errno.js';
import { BpfCommand, MapType } from './sys/generated/constants.js';
import {
  errorFromErrno,
  InvalidArgumentError,
  NotFoundError,
  NotSupportedError,
  PermissionError,
  SyscallError,
} from './errors.js';

describe('errno becomes a typed error with an actionable one-line message', () => {
  it('EPERM says to run as root or grant CAP_BPF+CAP_PERFMON', () => {
    const e = errorFromErrno(-Errno.EPERM, { operation: 'BPF_PROG_LOAD "x"' });
    expect(e).toBeInstanceOf(PermissionError);
    expect(e.message).toBe(
      'BPF_PROG_LOAD "x": EPERM (operation not permitted) — run as root or grant CAP_BPF+CAP_PERFMON (+CAP_NET_ADMIN for tc/xdp)',
    );
  });

  it('EPERM on a tc/xdp operation asks for CAP_NET_ADMIN too', () => {
    const e = errorFromErrno(Errno.EPERM, { operation: 'attach xdp', needsNetAdmin: true });
    expect(e.message).toContain('CAP_BPF+CAP_PERFMON+CAP_NET_ADMIN');
  });

  it("ENOENT carries the caller's explanation", () => {
    const e = errorFromErrno(-Errno.ENOENT, {
      operation: 'attach kprobe foo',
      hints: { ENOENT: 'foo is not traceable on this kernel' },
    });
    expect(e).toBeInstanceOf(NotFoundError);
    expect(e.message).toMatch(/foo is not traceable on this kernel$/);
  });

  it('ENOTSUPP (524) is named, not shown as a bare number', () => {
    const e = errorFromErrno(-524, { operation: 'BPF_LINK_CREATE kprobe_multi' });
    expect(e).toBeInstanceOf(NotSupportedError);
    expect(e.code).toBe('ENOTSUPP');
    expect(e.message).toContain('ENOTSUPP');
  });

  it('E2BIG and EINVAL are invalid-argument errors', () => {
    expect(errorFromErrno(-Errno.E2BIG, { operation: 'x' })).toBeInstanceOf(InvalidArgumentError);
    expect(errorFromErrno(-Errno.EINVAL, { operation: 'x' })).toBeInstanceOf(InvalidArgumentError);
  });

  it('unknown errnos still produce a SyscallError with the number', () => {
    const e = errorFromErrno(-4095, { operation: 'x' });
    expect(e).toBeInstanceOf(SyscallError);
    expect(e.message).toContain('errno 4095');
  });
});

describe('map errno paths through the fake backend', () => {
  it('map creation EINVAL names the rejected attributes', () => {
    const fake = new FakeBackend().onBpf(BpfCommand.MAP_CREATE, -Errno.EINVAL);
    expect(() =>
      BpfMap.create(
        { type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 1000, name: 'rb' },
        { backend: fake },
      ),
    ).toThrow(/EINVAL.*max_entries=1000.*power-of-two/);
  });

  it('a full hash map reports max_entries on E2BIG', () => {
    const fake = new FakeBackend().onBpf(BpfCommand.MAP_UPDATE_ELEM, -Errno.E2BIG);
    const m = BpfMap.create(
      { type: MapType.HASH, keySize: 4, valueSize: 4, maxEntries: 2, name: 'h' },
      { backend: fake },
    );
    expect(() => m.update(7, new Uint8Array(4))).toThrow(
      /update on map "h": E2BIG .* the map is full \(max_entries 2\)/,
    );
  });

  it('lookup of a missing key is undefined, not an error', () => {
    const fake = new FakeBackend().onBpf(BpfCommand.MAP_LOOKUP_ELEM, -Errno.ENOENT);
    const m = BpfMap.create({ type: MapType.HASH, keySize: 4, valueSize: 4, maxEntries: 2 }, { backend: fake });
    expect(m.lookup(1)).toBeUndefined();
  });

  it('writes the map_create attribute as the kernel expects it', () => {
    const fake = new FakeBackend();
    BpfMap.create(
      { type: MapType.ARRAY, keySize: 4, valueSize: 24, maxEntries: 9, name: 'cfg', flags: 0x80 },
      { backend: fake },
    );
    const a = new DataView(fake.calls[0]!.attr!.buffer);
    expect([
      a.getUint32(0, true),
      a.getUint32(4, true),
      a.getUint32(8, true),
      a.getUint32(12, true),
      a.getUint32(16, true),
    ]).toEqual([MapType.ARRAY, 4, 24, 9, 0x80]);
    expect(new TextDecoder().decode(fake.calls[0]!.attr!.subarray(28, 31))).toBe('cfg');
  });

  it('rejects bad names before any syscall', () => {
    const fake = new FakeBackend();
    expect(() =>
      BpfMap.create(
        { type: MapType.HASH, keySize: 4, valueSize: 4, maxEntries: 1, name: 'bad-name' },
        { backend: fake },
      ),
    ).toThrow(/may only contain/);
    expect(fake.calls).toHaveLength(0);
  });

  it('close releases the fd once, and use after close is a typed error', () => {
    const fake = new FakeBackend().onBpf(BpfCommand.MAP_CREATE, 42);
    const m = BpfMap.create({ type: MapType.HASH, keySize: 4, valueSize: 4, maxEntries: 1 }, { backend: fake });
    m.close();
    m.close();
    expect(fake.closed).toEqual([42]);
    expect(() => m.lookup(1)).toThrow(/map "" is closed/);
  });
});
