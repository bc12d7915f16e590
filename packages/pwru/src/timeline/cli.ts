/**
 * `pwru timeline`: joins several nodes' pwru JSON streams into one timeline per packet, and
 * `pwru timeline clock`, which prints a node's clock reference line.
 */
import { clockReferenceLine } from './clock-reference.js';
import { clocksJson, clockLines, packetJson, packetText } from './format.js';
import { parseInput, TimelineFollower } from './follow.js';
import { podsLine, resolvePods } from './pods.js';
import { followPods, PodResolver } from './pod-follow.js';
import { createInterface } from 'node:readline';
import { TimelineError } from './stream.js';

/** A bad command line (exit status 2). */
class TimelineUsageError extends TimelineError {
  override name = 'TimelineUsageError';
}

const USAGE = `Usage: pwru timeline [options] NODE=FILE [NODE=FILE...]
       pwru timeline clock [--node NAME]
       pwru timeline pods [--node NAME] [--root DIR] [--follow [--refresh-ms MS]]

Joins the --output-json streams of several nodes (one file per node, from pwru run with
--output-json --timestamp current after \`pwru timeline clock\`) into one timeline per packet, on
one clock: each node's offset is estimated from packets that crossed between nodes.
A FILE without NODE= takes the node name from its clock reference, or the file's name.

Options:
      --output-json      one JSON object per packet, then one with the clock estimates
  -f, --follow           follow the files as they grow; print each packet once it has been
                         quiet for --settle; stop with Ctrl-C
      --settle MS        quiet time before a followed packet is printed (default 1000)
      --prior-offset NS  offset assumed where packets went one way only (default 0 with wall
                         clocks; the bound itself otherwise)
  -h, --help             this help

pwru timeline clock prints {"pwru_clock":{...}}: this machine's wall clock and monotonic clock
(the clock of --timestamp current) at one instant.
pwru timeline pods prints {"pwru_pods":{...}}: the Kubernetes pod of each network namespace on
this node, from the container runtime's files (containerd, CRI-O) below --root (default /);
the timeline then shows each event's pod. With --follow it copies a pwru --output-json stream
from stdin to stdout, and when an event's network namespace has no pod yet, reads the runtime's
files again (at most once per --refresh-ms, default 1000) and writes the pods it learned first.
`;

/** Where the timeline writes; a seam for tests. */
export interface TimelineIo {
  out(s: string): void;
  err(s: string): void;
  /** Resolves when the user asks to stop (SIGINT, SIGTERM). */
  stopped(): Promise<void>;
  /** Resolves once everything written has reached the output (a pipe is written asynchronously). */
  flush?(): Promise<void>;
  /** The lines of standard input (`pods --follow`). */
  input?(): AsyncIterable<string>;
}

const processIo: TimelineIo = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
  stopped: () =>
    new Promise((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    }),
  flush: () => new Promise((resolve) => void process.stdout.write('', () => resolve())),
  input: () => createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY }),
};

interface TimelineArgs {
  json: boolean;
  follow: boolean;
  settleMs: number;
  prior?: number;
  inputs: string[];
}

function parse(argv: readonly string[]): TimelineArgs | 'help' {
  const a: TimelineArgs = { json: false, follow: false, settleMs: 1000, inputs: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new TimelineUsageError(`${name} needs a value`);
      return v;
    };
    const num = (v: string, what: string): number => {
      if (!/^-?\d+$/.test(v)) throw new TimelineUsageError(`${name} takes ${what}, not '${v}'`);
      return Number(v);
    };
    if (name === '-h' || name === '--help') return 'help';
    else if (name === '--output-json') a.json = true;
    else if (name === '-f' || name === '--follow') a.follow = true;
    else if (name === '--settle') a.settleMs = num(value(), 'milliseconds');
    else if (name === '--prior-offset') a.prior = num(value(), 'nanoseconds');
    else if (name.startsWith('-') && name !== '-')
      throw new TimelineUsageError(`unknown option ${name} (see pwru timeline --help)`);
    else a.inputs.push(arg);
  }
  if (a.inputs.length === 0)
    throw new TimelineUsageError(
      'no streams: give one pwru --output-json file per node, as NODE=FILE (see pwru timeline --help)',
    );
  return a;
}

/** Runs `pwru timeline ARGS`; resolves to the exit status. */
export async function timelineMain(argv: readonly string[], io: TimelineIo = processIo): Promise<number> {
  try {
    if (argv[0] === 'pods') {
      const rest = argv.slice(1);
      const opts: { node?: string; root: string; follow: boolean; refreshMs: number } = {
        root: '/',
        follow: false,
        refreshMs: 1000,
      };
      const usage = 'usage: pwru timeline pods [--node NAME] [--root DIR] [--follow [--refresh-ms MS]]';
      for (let i = 0; i < rest.length; i += 2) {
        if (rest[i] === '--follow') {
          opts.follow = true;
          i--;
          continue;
        }
        const v = rest[i + 1];
        if (v === undefined) throw new TimelineUsageError(usage);
        if (rest[i] === '--node') opts.node = v;
        else if (rest[i] === '--root') opts.root = v;
        else if (rest[i] === '--refresh-ms' && /^\d+$/.test(v)) opts.refreshMs = Number(v);
        else if (rest[i] === '--refresh-ms')
          throw new TimelineUsageError(`--refresh-ms takes a whole number of milliseconds, not "${v}"`);
        else throw new TimelineUsageError(usage);
      }
      if (!opts.follow) {
        io.out(podsLine(resolvePods(opts.root), opts.node));
        await io.flush?.();
        return 0;
      }
      if (!io.input) throw new TimelineUsageError('pods --follow reads standard input');
      // A signal stops pwru upstream of this copy: keep copying until its output ends.
      void io.stopped();
      const resolver = new PodResolver(() => resolvePods(opts.root), { refreshMs: opts.refreshMs });
      await followPods(io.input(), resolver, opts.node, (s) => io.out(s));
      await io.flush?.();
      return 0;
    }
    if (argv[0] === 'clock') {
      const rest = argv.slice(1);
      if (rest[0] === '-h' || rest[0] === '--help') {
        io.err(USAGE);
        return 0;
      }
      if (rest.length !== 0 && !(rest.length === 2 && rest[0] === '--node'))
        throw new TimelineUsageError('usage: pwru timeline clock [--node NAME]');
      io.out(clockReferenceLine(rest[1]));
      await io.flush?.();
      return 0;
    }
    const args = parse(argv);
    if (args === 'help') {
      io.err(USAGE);
      return 0;
    }
    const code = await runTimeline(args, io);
    await io.flush?.();
    return code;
  } catch (e) {
    if (e instanceof TimelineError) {
      io.err(`pwru timeline: ${e.message}\n`);
      return e instanceof TimelineUsageError ? 2 : 1;
    }
    throw e;
  }
}

async function runTimeline(args: TimelineArgs, io: TimelineIo): Promise<number> {
  const follower = new TimelineFollower(
    args.inputs.map(parseInput),
    args.prior !== undefined ? { prior: args.prior } : {},
  );
  const print = (packets: ReturnType<TimelineFollower['ready']>['packets']): void => {
    for (const p of packets) io.out(args.json ? JSON.stringify(packetJson(p)) + '\n' : packetText(p));
  };
  try {
    if (args.follow) {
      let stop = false;
      void io.stopped().then(() => (stop = true));
      while (!stop) {
        await new Promise((r) => setTimeout(r, 200));
        follower.poll();
        print(follower.ready(Date.now(), args.settleMs).packets);
      }
      follower.poll();
    }
    follower.finish();
    const { timeline, packets } = follower.ready(Date.now(), 0);
    print(packets);
    io.out(args.json ? JSON.stringify(clocksJson(timeline.clocks)) + '\n' : clockLines(timeline.clocks));
    return 0;
  } finally {
    follower.close();
  }
}
