/**
 * Targets a run skipped: functions the kernel would not probe or whose program it refused. The
 * count is upstream's `Attached ignored=N`; the first reasons are kept for `--debug`.
 */
import type { IgnoredTarget } from './kernel/session.js';
import type { Logger } from './log.js';

/** How many skipped targets' reasons are kept (the rest are only counted). */
export const IGNORED_REASONS_KEPT = 10;

/** A count of skipped targets with the first few reasons. */
export class IgnoredTargets {
  #count = 0;
  readonly #first: IgnoredTarget[] = [];

  /** Counts `n` skipped targets, keeping the reasons given while fewer than the limit are kept. */
  add(n: number, failures: readonly IgnoredTarget[] = []): void {
    this.#count += n;
    for (const f of failures) if (this.#first.length < IGNORED_REASONS_KEPT) this.#first.push(f);
  }

  /** Targets skipped so far. */
  get count(): number {
    return this.#count;
  }

  /** The first reasons kept. */
  get first(): readonly IgnoredTarget[] {
    return this.#first;
  }

  /** Logs the kept reasons at debug level, and how many more were skipped without one shown. */
  report(log: Logger): void {
    for (const f of this.#first) log.debug('Ignored', { target: f.target, error: f.error });
    if (this.#count > this.#first.length)
      log.debug('Ignored without a reason shown', { more: this.#count - this.#first.length });
  }
}
