/**
 * Reads node streams from files, whole or followed as they grow (`tail -f`), and re-joins them
 * as events arrive, handing out each packet once it has been quiet for a settle time.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { type JoinOptions, joinStreams, type PacketTimeline, type Timeline } from './join.js';
import { StreamReader, type TimeBase, TimelineError } from './stream.js';

/** One input: a file and the node label it was given (empty: from its clock reference or name). */
export interface StreamInput {
  readonly node: string;
  readonly file: string;
}

/** Parses `NODE=FILE` (or `FILE`) command-line inputs. */
export function parseInput(arg: string): StreamInput {
  const eq = arg.indexOf('=');
  if (eq > 0) return { node: arg.slice(0, eq), file: arg.slice(eq + 1) };
  return { node: '', file: arg };
}

class FileTail {
  private fd: number;
  private offset = 0;
  private partial = '';
  readonly reader: StreamReader;
  /** When each event (by index) was read, ms. */
  readonly readAt: number[] = [];

  constructor(
    readonly input: StreamInput,
    base: TimeBase,
  ) {
    try {
      this.fd = openSync(input.file, 'r');
    } catch (e) {
      throw new TimelineError(
        `cannot read ${input.file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}: give one pwru --output-json stream per node as NODE=FILE`,
      );
    }
    this.reader = new StreamReader(input.node, base, input.file, basename(input.file).replace(/\.[^.]*$/, ''));
  }

  /** Reads what was appended since the last call; true when events were added. */
  poll(now: number): boolean {
    const before = this.reader.events.length;
    const size = statSync(this.input.file).size;
    if (size < this.offset)
      throw new TimelineError(`${this.input.file} shrank while followed: follow a file that is only appended to`);
    const buf = Buffer.alloc(1 << 20);
    while (this.offset < size) {
      const n = readSync(this.fd, buf, 0, buf.length, this.offset);
      if (n <= 0) break;
      this.offset += n;
      const text = this.partial + buf.subarray(0, n).toString('utf8');
      const lines = text.split('\n');
      this.partial = lines.pop()!;
      for (const l of lines) this.reader.push(l);
    }
    for (let i = before; i < this.reader.events.length; i++) this.readAt.push(now);
    return this.reader.events.length > before;
  }

  /** Parses a last line that has no newline (the end of a file read whole). */
  finish(): void {
    if (this.partial !== '') this.reader.push(this.partial);
    this.partial = '';
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** A set of followed node streams. */
export class TimelineFollower {
  private readonly tails: FileTail[];
  private readonly emitted = new Set<string>();
  private count = 0;

  constructor(
    inputs: readonly StreamInput[],
    private readonly opts: JoinOptions = {},
  ) {
    if (inputs.length === 0)
      throw new TimelineError('no streams: give one pwru --output-json file per node, as NODE=FILE');
    const base: TimeBase = { realtimeNs: undefined };
    this.tails = inputs.map((i) => new FileTail(i, base));
    const names = new Set<string>();
    for (const t of this.tails) {
      t.poll(Date.now());
      if (t.reader.node === '') t.reader.node = basename(t.input.file).replace(/\.[^.]*$/, '');
      const n = t.reader.node;
      if (names.has(n))
        throw new TimelineError(`two streams are labelled ${n}: label each file with its node, as NODE=FILE`);
      names.add(n);
    }
  }

  /** Reads new events of every stream; true when there were any. */
  poll(now = Date.now()): boolean {
    let any = false;
    for (const t of this.tails) any = t.poll(now) || any;
    return any;
  }

  /** Parses each stream's last line when it has no newline (the end of a file read whole). */
  finish(): void {
    for (const t of this.tails) t.finish();
  }

  /**
   * Packets not handed out yet whose every event was read at least `settleMs` before `now`
   * (all of them when `settleMs` is 0), in the order they started.
   */
  ready(now: number, settleMs: number): { timeline: Timeline; packets: PacketTimeline[] } {
    const timeline = joinStreams(
      this.tails.map((t) => t.reader.stream()),
      this.opts,
    );
    const readAt = new Map(this.tails.map((t) => [t.reader.node, t.readAt] as const));
    const packets = timeline.packets.filter((p) => {
      if (this.emitted.has(p.key)) return false;
      const last = Math.max(...p.events.map((e) => readAt.get(e.event.node)?.[e.event.index] ?? 0));
      return settleMs === 0 || now - last >= settleMs;
    });
    for (const p of packets) {
      this.emitted.add(p.key);
      p.id = ++this.count;
    }
    return { timeline, packets };
  }

  close(): void {
    for (const t of this.tails) t.close();
  }
}
