import { errorFromErrno, type ErrnoContext } from '../errors.js';
import { defaultBackend, type SyscallBackend, type NativeMemory } from './backend.js';
import { writeFields, type FieldValue, type Layout } from './layout.js';
import { memlockError, prepareMemlockFor, type MemlockLimitError } from './memlock.js';

const ATTR_CAPACITY = 256;

/**
 * Typed access to bpf(2) over a {@link SyscallBackend}: zeroes a reusable attribute block, writes the
 * named fields of a command's layout, calls, and turns a negative result into a typed error.
 * Calls are synchronous, so one attribute block per backend is enough.
 */
export class Bpf {
  /** The reusable attribute block; its contents are valid until the next call. */
  readonly attr: NativeMemory;

  constructor(readonly backend: SyscallBackend) {
    this.attr = backend.alloc(ATTR_CAPACITY);
  }

  /** Runs `cmd` and returns the raw result (>= 0, or a negative errno). */
  raw<K extends string>(cmd: number, layout: Layout<K>, values: Partial<Record<K, FieldValue>>): number {
    prepareMemlockFor(this.backend, cmd);
    this.attr.bytes.fill(0, 0, layout.size);
    writeFields(this.attr.view, layout, values);
    return this.backend.bpf(cmd, this.attr, layout.size);
  }

  /**
   * Runs `cmd`; throws the typed error for `ctx` on failure ({@link MemlockLimitError} for an
   * EPERM that RLIMIT_MEMLOCK caused).
   */
  call<K extends string>(
    cmd: number,
    layout: Layout<K>,
    values: Partial<Record<K, FieldValue>>,
    ctx: ErrnoContext | (() => ErrnoContext),
  ): number {
    const r = this.raw(cmd, layout, values);
    if (r < 0) {
      const c = typeof ctx === 'function' ? ctx() : ctx;
      throw memlockError(this.backend, cmd, r, c.operation) ?? errorFromErrno(r, c);
    }
    return r;
  }
}

const cache = new WeakMap<SyscallBackend, Bpf>();

/** The {@link Bpf} wrapper of a backend (default: the process-wide koffi backend). */
export function bpfFor(backend: SyscallBackend = defaultBackend()): Bpf {
  let b = cache.get(backend);
  if (!b) {
    b = new Bpf(backend);
    cache.set(backend, b);
  }
  return b;
}

/** Copies a JS string into NUL-terminated native memory (caller frees). */
export function nativeString(backend: SyscallBackend, s: string): NativeMemory {
  const enc = new TextEncoder().encode(s);
  const m = backend.alloc(enc.length + 1);
  m.bytes.set(enc);
  return m;
}

/** Copies bytes into native memory (caller frees). */
export function nativeBytes(backend: SyscallBackend, data: Uint8Array): NativeMemory {
  const m = backend.alloc(data.length);
  m.bytes.set(data);
  return m;
}

/** Number of possible CPUs (`/sys/devices/system/cpu/possible`), the per-CPU value count. */
export { possibleCpus } from './cpus.js';
