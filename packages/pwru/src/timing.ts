/**
 * Where start-up time goes, for `--debug`: each phase from Node's own start to the last
 * attachment, so a slow start names its cause ("Start-up phases node=31 modules=58 btf=41 ...").
 */
import { performance } from 'node:perf_hooks';

/** One timed phase. */
export interface Phase {
  readonly name: string;
  readonly ms: number;
}

/**
 * Phases timed back to back: {@link end} closes the phase under way and starts the next, so
 * nothing between two marks goes uncounted. A phase ended twice adds up (one line per name).
 */
export class StartupTimes {
  private readonly phases = new Map<string, number>();
  private last: number;

  /** `start`: when the first phase began (default now); `now`: the clock (tests pass their own). */
  constructor(
    private readonly now: () => number = () => performance.now(),
    start?: number,
  ) {
    this.last = start ?? now();
  }

  /** Ends the phase under way as `name`; returns its milliseconds. */
  end(name: string): number {
    const t = this.now();
    const ms = t - this.last;
    this.last = t;
    this.add(name, ms);
    return ms;
  }

  /** Adds `ms` to phase `name` without moving the clock (for time measured elsewhere). */
  add(name: string, ms: number): void {
    this.phases.set(name, (this.phases.get(name) ?? 0) + ms);
  }

  /** Every phase, in the order first ended. */
  list(): Phase[] {
    return [...this.phases].map(([name, ms]) => ({ name, ms }));
  }

  /** Log attributes: each phase's whole milliseconds, then their total. */
  attrs(): Record<string, number> {
    const out: Record<string, number> = {};
    let total = 0;
    for (const [name, ms] of this.phases) {
      out[name] = Math.round(ms);
      total += ms;
    }
    out.total = Math.round(total);
    return out;
  }
}

/**
 * Times of the process before pwru's code ran, from Node's performance timeline: `node` is from
 * the process's time origin until Node finished bootstrapping, `modules` from then until `entered`
 * (when the entry module's body began: loading, compiling and evaluating every static import).
 */
export function processStartPhases(
  entered: number,
  timing: { bootstrapComplete: number } = performance.nodeTiming,
): { node: number; modules: number } {
  const boot = timing.bootstrapComplete;
  return { node: boot, modules: entered - boot };
}
