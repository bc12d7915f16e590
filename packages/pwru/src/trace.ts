/**
 * The programmatic API: `trace()` runs what the `pwru` command runs and hands out typed events
 * as an async iterator.
 *
 * ```ts
 * import { trace } from 'pwru';
 * const stop = AbortSignal.timeout(10_000);
 * for await (const ev of trace({ filterPcap: 'dst host 10.0.0.2 and tcp', outputTuple: true }, { signal: stop })) {
 *   console.log(ev.func, ev.tuple?.daddr, ev.tuple?.dport);
 * }
 * ```
 */
import { KernelBtfCache } from 'btf-parser';
import { PwruError } from './errors.js';
import type { PwruEvent } from './event.js';
import { checkSupported, parseArgs } from './flags/parse.js';
import { defaultOptions, FLAGS, type PwruOptions } from './flags/spec.js';
import { pcapFilters } from './generate/pcap.js';
import type { KernelSession } from './kernel/session.js';
import { Logger } from './log.js';
import { type JsonEvent, JsonPrinter } from './output/json.js';
import { describeError } from './run.js';
import type { CapturedPacket } from './output/pcapng/events.js';
import { type Progress, Tracer } from './tracer.js';

/**
 * One traced event: the fields `--output-json` prints (same names, same meaning: `func` is the
 * function or tracepoint, with the drop reason in parentheses for drops; `tuple`, `netns`,
 * `mark`, `iface`, `len`... as the options ask), plus the decoded record for anything else.
 */
export interface TraceEvent extends JsonEvent {
  /** The decoded ring-buffer record (addresses as 32-bit halves, monotonic `ts`, raw fields). */
  readonly raw: PwruEvent;
  /**
   * With `outputPcapng` set (to anything: `trace()` itself writes no file), the packet bytes the
   * kernel copied at this function; write them with `PcapngEventWriter`.
   */
  readonly packet?: CapturedPacket;
}

/**
 * Options of {@link trace}: the CLI's flags by their camel-case names (`filterFunc`,
 * `outputTuple`, `backend`...; the pcap expression is `filterPcap`), or the command line itself
 * as an array of words (`['--filter-func', 'ip_rcv', 'tcp']`).
 */
export type TraceOptions = Partial<PwruOptions> | readonly string[];

/** How {@link trace} runs. */
export interface TraceInit {
  /** Stops the trace: the iterator finishes after the events already read, then detaches. */
  readonly signal?: AbortSignal;
  /** Where log lines go (default: nowhere; pass `new Logger()` for upstream's stderr lines). */
  readonly log?: Logger;
  /** Attach/detach progress, e.g. the CLI's `ProgressBar`. */
  readonly progress?: (total: number) => Progress;
  /** Called once every probe is attached (the moment `--ready-file` would be created). */
  readonly onAttached?: (tracer: Tracer) => void;
  /** The kernel side; default: the real kernel through bpf-loader-ts. */
  readonly session?: KernelSession;
  /** How many records to decode per wake-up before yielding to other work (default 4096). */
  readonly batch?: number;
}

/** A trace option that is not a pwru flag (a typo), or a flag of a feature not built. */
export class TraceOptionError extends PwruError {
  override name = 'TraceOptionError';
}

/** Resolves `TraceOptions` to the full option set the CLI would have, checking names and values. */
export function traceOptions(options: TraceOptions): PwruOptions {
  if (Array.isArray(options)) {
    try {
      const parsed = parseArgs(options as readonly string[]);
      checkSupported(parsed);
      return parsed.options;
    } catch (e) {
      throw new TraceOptionError(describeError(e));
    }
  }
  const given = options as Partial<PwruOptions>;
  const keys = new Map(FLAGS.map((f) => [f.key as string, f.name]));
  keys.set('filterPcap', 'filter');
  const opts = defaultOptions();
  const changed = new Set<string>();
  for (const [k, v] of Object.entries(given)) {
    const flag = keys.get(k);
    if (flag === undefined)
      throw new TraceOptionError(
        `unknown trace option ${JSON.stringify(k)} (options are the CLI's flags in camelCase, e.g. filterFunc)`,
      );
    if (v === undefined) continue;
    const def = (opts as unknown as Record<string, unknown>)[k];
    if (typeof def !== typeof v || Array.isArray(def) !== Array.isArray(v)) {
      throw new TraceOptionError(
        `trace option ${k} must be ${Array.isArray(def) ? 'an array of strings' : `a ${typeof def}`}`,
      );
    }
    (opts as unknown as Record<string, unknown>)[k] = v;
    changed.add(flag);
  }
  if (opts.netnsNamesMaxLength < 10) opts.netnsNamesMaxLength = 10;
  if (opts.filterTraceTc || (opts.traceOnlyBpf && !opts.filterTraceXdp)) opts.outputSkbCb = true; // as the CLI: tc tracing shows cb
  try {
    checkSupported({ options: opts, changed });
  } catch (e) {
    throw new TraceOptionError(describeError(e));
  }
  return opts;
}

/**
 * Starts a trace and iterates its events. The first `next()` generates, loads and attaches the
 * programs (rejecting with a one-line `PwruError` on bad options, missing privileges or kernel
 * features, having detached anything it attached); the iterator then yields events as they
 * arrive and ends when `signal` aborts or after `outputLimitLines` events. Leaving the loop
 * early (`break`, an exception) detaches everything too.
 *
 * Events not yet taken by the loop stay in the kernel's ring buffer: a slow consumer makes the
 * kernel drop new events (counted; see `Tracer.lost()` via `onAttached`), never grows memory.
 */
export async function* trace(
  options: TraceOptions = {},
  init: TraceInit = {},
): AsyncGenerator<TraceEvent, void, undefined> {
  const opts = traceOptions(options);
  const log = init.log ?? new Logger(() => undefined, opts.debug);
  const signal = init.signal;
  if (signal?.aborted) return;
  let session = init.session;
  let cache: KernelBtfCache | undefined;
  if (!session) {
    cache = new KernelBtfCache(opts.kernelBtf ? { path: opts.kernelBtf } : {});
    const { LoaderSession } = await import('./kernel/loader-session.js');
    try {
      session = new LoaderSession(cache.vmlinux(), opts.filterKprobeBatch, !opts.kernelBtf);
    } catch (e) {
      throw new PwruError(`Failed to load BTF spec: ${describeError(e)}`);
    }
  }
  const tracer = await Tracer.start(opts, {
    session,
    log,
    ...(signal ? { signal } : {}),
    ...(init.progress ? { progress: init.progress } : {}),
    pcap: pcapFilters,
    ...(cache ? { cache } : {}),
  });
  let wake: (() => void) | undefined;
  const onAbort = (): void => wake?.();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    init.onAttached?.(tracer);
    const printer = new JsonPrinter(opts, tracer.context);
    const limit = opts.outputLimitLines;
    const batchSize = Math.max(1, init.batch ?? 4096);
    let count = 0;
    let batch: TraceEvent[] = [];
    const pcapng = opts.outputPcapng !== '';
    const take = (raw: PwruEvent): void => {
      const packet = pcapng ? tracer.packetOf(raw) : undefined;
      batch.push(packet ? { ...printer.toJson(raw), raw, packet } : { ...printer.toJson(raw), raw });
    };
    while (!signal?.aborted) {
      const max = limit === 0 ? batchSize : Math.min(batchSize, limit - count);
      if (tracer.take(take, max) === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          void tracer.waitForEvents().then(resolve);
        });
        wake = undefined;
        continue;
      }
      const ready = batch;
      batch = [];
      for (const ev of ready) {
        yield ev;
        if (limit !== 0 && ++count >= limit) return;
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await tracer.close();
  }
}
