import { closeSync, openSync } from 'node:fs';
import { BpfError, errorFromErrno, NotFoundError } from '../errors.js';
import { type SyscallBackend, defaultBackend } from '../sys/backend.js';
import { Errno } from '../sys/errno.js';

/** CLONE_NEWNET: the namespace type setns(2) is asked to enter. */
export const CLONE_NEWNET = 0x4000_0000;

/**
 * A network namespace: a name made by `ip netns add` (a file in /run/netns) or a path to a
 * namespace file (`/proc/<pid>/ns/net`, a bind mount).
 */
export type Netns = string;

/** The file a {@link Netns} names: bare names live in /run/netns, as `ip netns` puts them. */
export function netnsPath(netns: Netns): string {
  return netns.includes('/') ? netns : `/run/netns/${netns}`;
}

/**
 * The process could not return to the network namespace it was in. Its main thread is left in
 * the other namespace; later netlink or XDP calls would act there, so the process should exit.
 */
export class NetnsRestoreError extends BpfError {}

/**
 * Runs `fn` with the calling thread inside network namespace `netns`, then moves it back, even
 * when `fn` throws. Node runs JavaScript and every synchronous syscall of this package on its
 * main thread, so interface names, netlink sockets and XDP/tcx links created inside `fn`
 * resolve in `netns`; nothing else runs meanwhile. Links created inside keep working after the
 * return, and closing them needs no namespace.
 *
 * `fn` must be synchronous: awaiting inside it would let unrelated code run in the other
 * namespace, so a returned promise is refused (after moving back).
 *
 * @example
 *   const link = withNetns('blue', () => attachXdp(prog, 'veth0'));
 */
export function withNetns<T>(netns: Netns, fn: () => T, backend: SyscallBackend = defaultBackend()): T {
  const path = netnsPath(netns);
  let target: number;
  try {
    target = openSync(path, 'r');
  } catch {
    throw new NotFoundError(
      Errno.ENOENT,
      `open network namespace ${netns}`,
      `${path} does not exist (ip netns list shows the named ones)`,
    );
  }
  let original: number;
  try {
    original = openSync('/proc/thread-self/ns/net', 'r');
  } catch (e) {
    closeSync(target);
    throw new BpfError(`open this thread's network namespace: ${(e as Error).message}`, { cause: e });
  }
  try {
    const r = backend.setns(target, CLONE_NEWNET);
    if (r < 0)
      throw errorFromErrno(r, {
        operation: `enter network namespace ${netns}`,
        hints: { EINVAL: `${path} is not a network namespace` },
      });
    let result: T | undefined;
    let failure: unknown;
    let failed = false;
    try {
      result = fn();
    } catch (e) {
      failed = true;
      failure = e;
    }
    const back = backend.setns(original, CLONE_NEWNET);
    if (back < 0) {
      const why = errorFromErrno(back, { operation: 'return to the original network namespace' });
      throw new NetnsRestoreError(
        `${why.message}; this thread is still in network namespace ${netns}: exit the process`,
        {
          cause: failed ? failure : why,
        },
      );
    }
    if (failed) throw failure;
    if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
      throw new BpfError(
        'withNetns runs synchronous functions only: awaiting inside would run other code in the namespace',
      );
    }
    return result as T;
  } finally {
    closeSync(target);
    closeSync(original);
  }
}

/** {@link withNetns} when `netns` is given, else `fn()` in the current namespace. */
export function inNetns<T>(netns: Netns | undefined, fn: () => T, backend?: SyscallBackend): T {
  return netns === undefined ? fn() : withNetns(netns, fn, backend);
}
