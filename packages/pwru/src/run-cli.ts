/**
 * The CLI's run: a {@link Tracer} started, its events printed as upstream prints them until the
 * line limit or a signal, then closed. The printing path reads records in place from the ring
 * buffer (no per-event promise), which is what keeps the CLI above a million lines a second.
 */
import { writeFileSync } from 'node:fs';
import type { KernelBtfCache } from 'btf-parser';
import type { PwruOptions } from './flags/spec.js';
import type { KernelSession } from './kernel/session.js';
import type { Logger } from './log.js';
import { JsonPrinter } from './output/json.js';
import { TextPrinter } from './output/text.js';
import { openTraceOutput, type TraceOutput } from './output/destination.js';
import { formatSummaryJson, formatSummaryText, TraceSummary } from './output/summary.js';
import { describeError, type PcapCompiler } from './run.js';
import { type Progress, Tracer } from './tracer.js';
import { DetachProgress, type Interrupts } from './interrupts.js';
import type { StartupTimes } from './timing.js';
import { startupDone } from './code-cache.js';
import { releaseYoungGeneration } from './heap.js';
import { settleHeap } from './settle.js';
import { SequenceCollector } from './sequence/live.js';
import { writeSequenceHtml } from './sequence/html.js';
import { linesToStdout, openPcapngOutput, type PcapngOutput } from './output/pcapng/destination.js';

/** Where a run writes and how it is stopped. */
export interface RunIO {
  readonly log: Logger;
  /** File descriptor trace lines go to (stdout). */
  readonly out: number;
  /** Aborted on SIGINT/SIGTERM. */
  readonly signal: AbortSignal;
  /** Progress bars go here (stderr). */
  readonly progress: (total: number) => Progress;
  /** The stop signals: a second one prints what pwru is waiting for (a slow detach, usually). */
  readonly interrupts?: Interrupts;
  /** Start-up phases timed so far; `--debug` logs them all once attached. */
  readonly times?: StartupTimes;
}

/**
 * Runs a trace to the end: load, attach with a progress bar, print events until the line limit
 * or a signal, then detach and report loss. Returns the exit status; every error becomes one
 * ERROR log line.
 */
export async function run(
  opts: PwruOptions,
  session: KernelSession,
  io: RunIO,
  pcap?: PcapCompiler,
  cache?: KernelBtfCache,
): Promise<number> {
  const { log } = io;
  let tracer: Tracer | undefined;
  let output: TraceOutput | undefined;
  let pcapng: PcapngOutput | undefined;
  const detachProgress = new DetachProgress();
  io.interrupts?.onRepeat(() => {
    log.info(
      detachProgress.active
        ? detachProgress.describe()
        : 'Stopping: pwru finishes the step under way, then detaches everything it attached and exits',
    );
  });
  try {
    tracer = await Tracer.start(opts, {
      session,
      log,
      signal: io.signal,
      progress: io.progress,
      detachProgress,
      ...(io.times ? { times: io.times } : {}),
      ...(pcap ? { pcap } : {}),
      ...(cache ? { cache } : {}),
    });
    log.info('Listening for events..');
    startupDone();
    settleHeap();
    releaseYoungGeneration();
    if (opts.readyFile !== '') writeFileSync(opts.readyFile, '');

    const printer = opts.outputJson ? new JsonPrinter(opts, tracer.context) : new TextPrinter(opts, tracer.context);
    output = openTraceOutput(opts, io.out);
    pcapng = openPcapngOutput(opts, tracer.context, io.out);
    const capture = pcapng?.events;
    const lines = linesToStdout(opts);
    const writer = output.writer;
    const sequence =
      opts.outputSequence || opts.outputHtml !== '' ? new SequenceCollector(opts, tracer.context) : undefined;
    const summary =
      opts.outputSummary || opts.outputSummaryByTuple
        ? new TraceSummary(tracer.context, { byTuple: opts.outputSummaryByTuple })
        : undefined;
    if (lines) writer.write(printer.header());
    writer.flush();
    const limit = opts.outputLimitLines;
    const t = tracer;
    let count = 0;
    await new Promise<void>((resolve) => {
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        clearInterval(lossTimer);
        io.signal.removeEventListener('abort', finish);
        resolve();
      };
      const lossTimer = setInterval(() => t.reportLost(false), 1000);
      if (io.signal.aborted) return finish();
      io.signal.addEventListener('abort', finish, { once: true });
      t.subscribe(
        (view, off) => {
          if (limit !== 0 && count >= limit) return;
          const ev = t.decode(view, off);
          summary?.add(ev);
          sequence?.add(ev);
          if (lines) writer.write(printer.format(ev));
          capture?.write(ev, t.packetOf(ev));
          if (++count === limit) {
            writer.flush();
            // Not from inside the reader's callback: it is still walking the mapped buffer.
            setImmediate(finish);
          }
        },
        () => {
          writer.flush();
          capture?.flush();
        },
      );
    });
    await pcapng?.close();
    if (summary && lines)
      writer.write((opts.outputJson ? formatSummaryJson : formatSummaryText)(summary.result(t.lost())));
    if (sequence && opts.outputHtml !== '') writeSequenceHtml(opts.outputHtml, sequence.stories());
    if (sequence && opts.outputSequence && lines)
      writer.write((opts.outputJson || !summary ? '' : '\n') + sequence.format(opts.outputJson));
    await output.close();
    if (limit !== 0 && count >= limit) log.info('Printed events, exiting program..', { count });
    else log.info('Received signal, exiting program..');
    return 0;
  } catch (e) {
    if (e instanceof Error && (e as NodeJS.ErrnoException).code === 'EPIPE') return 0;
    log.error('Failed to run pwru', { error: describeError(e) });
    return 1;
  } finally {
    await pcapng?.close().catch(() => undefined);
    await output?.close().catch(() => undefined);
    await tracer?.close();
  }
}
