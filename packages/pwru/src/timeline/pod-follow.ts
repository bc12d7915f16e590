/**
 * Pods created after pwru started: `pwru timeline pods --follow` passes a pwru JSON stream
 * through and, when an event names a network namespace it has no pod for, re-reads the container
 * runtime's files (at most once per refresh interval) and writes a `pwru_pods` line with the
 * pods it learned before that event, so the timeline names them too.
 */
import { type PodName, podsLine } from './pods.js';

/** Options of {@link PodResolver}. */
export interface PodResolverOptions {
  /** Least time between two reads of the runtime's files (ms). */
  readonly refreshMs?: number;
  /**
   * Reads that may miss one namespace before it is taken for one no pod owns (the node's own,
   * a process's): its later events then cause no more reads.
   */
  readonly attempts?: number;
  /** The clock (ms); a seam for tests. */
  readonly now?: () => number;
}

/**
 * The pods of a node's network namespaces, re-read lazily: a namespace not seen before causes a
 * read of the runtime's files, rate-limited, and given up on after a few reads that miss it.
 */
export class PodResolver {
  private readonly pods = new Map<number, PodName>();
  /** Unknown namespaces: how many reads since first seen have missed them. */
  private readonly misses = new Map<number, number>();
  private lastRead = Number.NEGATIVE_INFINITY;
  private readonly refreshMs: number;
  private readonly attempts: number;
  private readonly now: () => number;

  constructor(
    /** Reads the runtime's files (`resolvePods` with the node's root). */
    private readonly read: () => ReadonlyMap<number, PodName>,
    opts: PodResolverOptions = {},
  ) {
    this.refreshMs = opts.refreshMs ?? 1000;
    this.attempts = opts.attempts ?? 5;
    this.now = opts.now ?? Date.now;
  }

  /** Reads the files now; returns the pods (namespace inode to pod) that are new or renamed. */
  refresh(): Map<number, PodName> {
    this.lastRead = this.now();
    const learned = new Map<number, PodName>();
    for (const [ino, pod] of this.read()) {
      if (this.pods.get(ino) !== pod) learned.set(ino, pod);
      this.pods.set(ino, pod);
      this.misses.delete(ino);
    }
    for (const [ino, n] of this.misses) this.misses.set(ino, n + 1);
    return learned;
  }

  /**
   * The pods learned by looking `ino` up: empty when it is known, given up on, or the last read
   * was too recent (a later event of the namespace tries again).
   */
  lookup(ino: number): Map<number, PodName> {
    if (this.pods.has(ino)) return new Map();
    const missed = this.misses.get(ino);
    if (missed === undefined) this.misses.set(ino, 0);
    else if (missed >= this.attempts) return new Map();
    if (this.now() - this.lastRead < this.refreshMs) return new Map();
    return this.refresh();
  }

  /** The pod of `ino`, as known now. */
  pod(ino: number): PodName | undefined {
    return this.pods.get(ino);
  }
}

const NETNS = /"netns":(\d+)/;

/**
 * Copies a pwru JSON stream from `lines` to `out`: first a `pwru_pods` line with the pods known
 * now, then each line, preceded by a `pwru_pods` line whenever looking up its event's network
 * namespace taught the resolver new pods.
 */
export async function followPods(
  lines: AsyncIterable<string>,
  resolver: PodResolver,
  node: string | undefined,
  out: (s: string) => void,
): Promise<void> {
  out(podsLine(resolver.refresh(), node));
  for await (const line of lines) {
    const m = NETNS.exec(line);
    if (m) {
      const learned = resolver.lookup(Number(m[1]));
      if (learned.size > 0) out(podsLine(learned, node));
    }
    out(line + '\n');
  }
}
