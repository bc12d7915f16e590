import { readFileSync, writeFileSync } from 'node:fs';
import { BpfError } from '../errors.js';

/** The kernel knob that makes every synchronize_rcu() (and SRCU) wait an expedited grace period. */
export const RCU_EXPEDITED_PATH = '/sys/kernel/rcu_expedited';

/** Thrown when expedited RCU was asked for but the kernel knob cannot be read or written. */
export class ExpeditedRcuError extends BpfError {}

/**
 * Runs `work` with the kernel's expedited RCU grace periods switched on, then restores the knob.
 *
 * Removing a kprobe waits for RCU grace periods (the kprobe itself, and the perf trace event it
 * fed, each wait before their memory is freed), one removal after another under the kernel's
 * `event_mutex`. Expedited grace periods end in IPIs to every CPU instead of waiting for each CPU
 * to pass a quiescent state on its own, so those waits shrink — at the price of interrupting
 * every CPU of the machine, system-wide, while `work` runs. That is why this is only ever an
 * explicit opt-in.
 *
 * The knob is written only when it reads `0`, and set back to `0` afterwards (also when `work`
 * throws); if it was already on (the administrator's choice, or another tracer detaching at the
 * same time) it is left alone. A process killed in the middle leaves it on: `echo 0 >
 * /sys/kernel/rcu_expedited` restores it.
 */
export async function withExpeditedRcu<T>(work: () => Promise<T>, path = RCU_EXPEDITED_PATH): Promise<T> {
  let before: string;
  try {
    before = readFileSync(path, 'utf8').trim();
  } catch (e) {
    throw new ExpeditedRcuError(
      `expedited RCU: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? e}); detach without expediteRcu`,
    );
  }
  if (before !== '0') return work();
  try {
    writeFileSync(path, '1');
  } catch (e) {
    throw new ExpeditedRcuError(
      `expedited RCU: cannot write ${path} (${(e as NodeJS.ErrnoException).code ?? e}); run as root or detach without expediteRcu`,
    );
  }
  try {
    return await work();
  } finally {
    try {
      writeFileSync(path, '0');
    } catch (e) {
      // eslint-disable-next-line no-unsafe-finally
      throw new ExpeditedRcuError(
        `expedited RCU: cannot restore ${path} (${(e as NodeJS.ErrnoException).code ?? e}); run: echo 0 > ${path}`,
      );
    }
  }
}
