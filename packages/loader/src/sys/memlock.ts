import { PermissionError } from '../errors.js';
import type { SyscallBackend } from './backend.js';
import { Errno } from './errno.js';
import { BpfCommand, MapType } from './generated/constants.js';
import { MapCreateAttr } from './generated/layouts.js';
import { writeFields } from './layout.js';

/** `RLIMIT_MEMLOCK`. */
export const RLIMIT_MEMLOCK = 8;

/** bpf(2) commands whose memory kernels before 5.11 charge to `RLIMIT_MEMLOCK`. */
const CHARGED_COMMANDS: ReadonlySet<number> = new Set([
  BpfCommand.MAP_CREATE,
  BpfCommand.PROG_LOAD,
  BpfCommand.BTF_LOAD,
]);

/** What {@link removeMemlockLimit} found and did. */
export type MemlockOutcome =
  /** The soft limit was already unlimited. */
  | 'unlimited'
  /** The kernel accounts BPF memory to memory cgroups (5.11+): the limit does not matter. */
  | 'not-charged'
  /** The kernel charges RLIMIT_MEMLOCK and the limit is now unlimited. */
  | 'raised'
  /** The kernel charges RLIMIT_MEMLOCK and only the soft limit could be raised (to the hard one). */
  | 'raised-to-hard'
  /** The kernel charges RLIMIT_MEMLOCK and the limit could not be raised at all. */
  | 'unchanged';

interface MemlockState {
  outcome: MemlockOutcome;
  /** Whether the kernel charges BPF memory to RLIMIT_MEMLOCK (undefined when not probed). */
  charged?: boolean;
}

const states = new WeakMap<SyscallBackend, MemlockState>();

/**
 * The limit this kernel would apply: creates a one-entry array map with the soft limit set to 0
 * for an instant. Kernels that charge BPF memory to RLIMIT_MEMLOCK (before 5.11, or later ones
 * without memcg accounting) refuse with EPERM; others create it. The limit is restored either way.
 */
export function kernelChargesMemlock(backend: SyscallBackend): boolean {
  const cur = backend.getrlimit(RLIMIT_MEMLOCK);
  if (typeof cur === 'number') return false;
  if (backend.setrlimit(RLIMIT_MEMLOCK, 0, cur[1]) < 0) return false;
  const attr = backend.alloc(MapCreateAttr.size);
  try {
    writeFields(attr.view, MapCreateAttr, { mapType: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
    const fd = backend.bpf(BpfCommand.MAP_CREATE, attr, MapCreateAttr.size);
    if (fd >= 0) backend.close(fd);
    return fd === -Errno.EPERM;
  } finally {
    attr.free();
    backend.setrlimit(RLIMIT_MEMLOCK, cur[0], cur[1]);
  }
}

/**
 * Lifts `RLIMIT_MEMLOCK` when, and only when, this kernel charges BPF maps, programs and BTF to
 * it (Linux < 5.11, as cilium/ebpf's `rlimit.RemoveMemlock`): to unlimited when privileged,
 * else the soft limit to the hard one. Idempotent per backend; returns what it found and did.
 */
export function removeMemlockLimit(backend: SyscallBackend): MemlockOutcome {
  const known = states.get(backend);
  if (known) return known.outcome;
  const state = decide(backend);
  states.set(backend, state);
  return state.outcome;
}

function decide(backend: SyscallBackend): MemlockState {
  const cur = backend.getrlimit(RLIMIT_MEMLOCK);
  if (typeof cur === 'number' || cur[0] === Infinity) return { outcome: 'unlimited' };
  if (!kernelChargesMemlock(backend)) return { outcome: 'not-charged', charged: false };
  if (backend.setrlimit(RLIMIT_MEMLOCK, Infinity, Infinity) >= 0) return { outcome: 'raised', charged: true };
  if (cur[1] > cur[0] && backend.setrlimit(RLIMIT_MEMLOCK, cur[1], cur[1]) >= 0)
    return { outcome: 'raised-to-hard', charged: true };
  return { outcome: 'unchanged', charged: true };
}

/**
 * Called before every bpf(2) command: on backends that ask for it ({@link SyscallBackend.raiseMemlock},
 * the real one), the first map, program or BTF creation runs {@link removeMemlockLimit}.
 */
export function prepareMemlockFor(backend: SyscallBackend, cmd: number): void {
  if (backend.raiseMemlock && CHARGED_COMMANDS.has(cmd) && !states.has(backend)) removeMemlockLimit(backend);
}

/** EPERM because RLIMIT_MEMLOCK is too low for what the kernel charges to it, not a privilege problem. */
export class MemlockLimitError extends PermissionError {
  /** The soft RLIMIT_MEMLOCK in bytes when the call failed. */
  readonly limitBytes: number;
  constructor(operation: string, limitBytes: number) {
    super(
      Errno.EPERM,
      operation,
      `this kernel charges BPF memory to RLIMIT_MEMLOCK (Linux < 5.11) and the limit is ${Math.floor(limitBytes / 1024)} KiB; raise it (ulimit -l unlimited) or run as root`,
    );
    this.limitBytes = limitBytes;
  }
}

/**
 * The error for a failed `cmd`, when EPERM there is the memlock limit's doing: the kernel is
 * known to charge memlock and the soft limit is finite. Otherwise undefined.
 */
export function memlockError(
  backend: SyscallBackend,
  cmd: number,
  errno: number,
  operation: string,
): MemlockLimitError | undefined {
  if (Math.abs(errno) !== Errno.EPERM || !CHARGED_COMMANDS.has(cmd)) return undefined;
  if (states.get(backend)?.charged !== true) return undefined;
  const cur = backend.getrlimit(RLIMIT_MEMLOCK);
  if (typeof cur === 'number' || cur[0] === Infinity) return undefined;
  return new MemlockLimitError(operation, cur[0]);
}
