/**
 * A running trace: programs generated, loaded and attached, events waiting in the ring buffer.
 *
 * The CLI and the programmatic `trace()` API are both thin layers over this class. It owns every
 * kernel object of the run and releases all of them in {@link Tracer.close}, including when
 * start-up fails half way (nothing stays attached behind an error).
 */
import type { Btf, KernelBtfCache } from 'btf-parser';
import type { Backend } from './backend.js';
import { ProgramRefusedError, PwruError } from './errors.js';
import { IgnoredTargets } from './ignored.js';
import type { DetachProgress } from './interrupts.js';
import { type Addr64, decodeEvent, EventKind, type PwruEvent } from './event.js';
import type { PwruOptions } from './flags/spec.js';
import { formatMetadataValue, type SkbMetadata } from './generate/skb-metadata.js';
import { isReturnKind } from './generate/return.js';
import { attachBpfProgs, isBpfProgTracer } from './kernel/attach-bpf-progs.js';
import type { Attachment, KernelSession, LoadedProgram, RingReader } from './kernel/session.js';
import type { Ksyms } from './ksyms.js';
import type { Logger } from './log.js';
import type { OutputContext } from './output/context.js';
import type { PlannedProgram, TracePlan } from './plan/programs.js';
import { liveContext } from './run-context.js';
import { DumpJoiner } from './output/dumps.js';
import { dumpBufferValueSize, dumpRingBytes } from './generate/skb-dump.js';
import { packetBufferValueSize, packetRingBytes } from './generate/skb-packet.js';
import { PacketJoiner } from './output/pcapng/joiner.js';
import type { CapturedPacket } from './output/pcapng/events.js';
import { type PcapCompiler, prepare, RING_BYTES } from './run.js';
import type { ReturnFormats } from './output/retval.js';
import type { StartupTimes } from './timing.js';

/** Something that shows attach/detach progress (the CLI's bar; a no-op for the API). */
export interface Progress {
  add(n: number): void;
  finish(): void;
}

/** What a tracer needs from its surroundings. */
export interface TracerEnv {
  /** The kernel side (bpf-loader-ts in real runs, a fake in tests). */
  readonly session: KernelSession;
  readonly log: Logger;
  /** Aborting it stops attaching early; the caller still calls close(). */
  readonly signal?: AbortSignal;
  /** Progress of attaching and detaching (default: none). */
  readonly progress?: (total: number) => Progress;
  /** The pcap-filter compiler (pcap2ebpf); without it, a pcap filter is an error. */
  readonly pcap?: PcapCompiler;
  /** The kernel BTF, parsed once and shared with the session. */
  readonly cache?: KernelBtfCache;
  /** Kept up to date while probes are detached (what a repeated Ctrl-C reports). */
  readonly detachProgress?: DetachProgress;
  /** Start-up phases: each step of start() is added, and `--debug` logs them all once attached. */
  readonly times?: StartupTimes;
}

const ATTACH_WORDS: Record<Backend, [string, string]> = {
  kprobe: ['Attaching kprobes', 'Detaching kprobes...'],
  'kprobe-multi': ['Attaching kprobes', 'Detaching kprobes...'],
  tracepoint: ['Attaching tracepoints', 'Detaching tracepoints...'],
  fentry: ['Attaching fentry programs', 'Detaching fentry programs...'],
};

const noProgress = (): Progress => ({ add: () => undefined, finish: () => undefined });

/** A started trace. Create with {@link Tracer.start}; always {@link Tracer.close} it. */
export class Tracer implements AsyncDisposable {
  /** How many targets (functions, tracepoints) are attached. */
  readonly attached: number;
  /** Targets skipped for reasons upstream also ignores (missing symbol, not traceable). */
  readonly ignored: number;
  /** What the printers look up beyond the event itself (symbols, drop reasons, names). */
  readonly context: OutputContext;
  private reader?: RingReader;
  private closing?: Promise<void>;
  private lostReported = 0;
  /** Joins `--output-skb` / `--output-skb-shared-info` dumps to their events. */
  private readonly dumps?: DumpJoiner;
  /** Joins `--output-pcapng` packet copies to their events. */
  private readonly packets?: PacketJoiner;

  private constructor(
    readonly options: PwruOptions,
    /** The programs, sites and event layout of this run. */
    readonly plan: TracePlan,
    readonly btf: Btf,
    readonly ksyms: Ksyms | undefined,
    private readonly env: TracerEnv,
    private readonly attachments: Attachment[],
    ignored: number,
    metadata: readonly SkbMetadata[],
    xdpMetadata: readonly SkbMetadata[] = [],
    returns?: ReturnFormats,
  ) {
    this.attached = attachments.reduce((n, a) => n + a.count, 0);
    this.ignored = ignored;
    const session = env.session;
    this.context = {
      ...liveContext({
        sites: plan.sites,
        ksyms,
        btf,
        stack: (id) => session.stack(id),
        netnsNames: options.outputNetnsNames,
      }),
      metadata: metadata.map((x) => ({ field: x.field, format: (v: Addr64) => formatMetadataValue(x, v) })),
      xdpMetadata: xdpMetadata.map((x) => ({ field: x.field, format: (v: Addr64) => formatMetadataValue(x, v) })),
      ...(returns ? { returns } : {}),
    };
    const drain = options.outputSkb || options.outputSkbSharedInfo ? session.dumpDrain?.() : undefined;
    if (drain) this.dumps = new DumpJoiner(drain, { skb: options.outputSkb, sharedInfo: options.outputSkbSharedInfo });
    const packets = options.outputPcapng !== '' ? session.packetDrain?.() : undefined;
    if (packets) this.packets = new PacketJoiner(packets);
  }

  /** Which backend the run uses. */
  get backend(): Backend {
    return this.plan.backend;
  }

  /**
   * Discovers targets, generates and loads the programs, and attaches them, logging as upstream
   * does ("Attaching kprobes", "Attached ignored=N"). On any failure, whatever was attached is
   * detached and the session closed before the error is thrown.
   */
  static async start(options: PwruOptions, env: TracerEnv): Promise<Tracer> {
    const { log, session } = env;
    const progress = env.progress ?? noProgress;
    const attachments: Attachment[] = [];
    let backend: Backend | undefined;
    try {
      let t = performance.now();
      const lap = (what: string, attrs: Record<string, unknown> = {}): void => {
        const now = performance.now();
        log.debug(what, { ...attrs, ms: Math.round(now - t) });
        t = now;
      };
      lap('Started', { since_process_start_ms: Math.round(performance.now()) });
      const times = env.times;
      mountTracefsIfMissing(session, log);
      times?.end('tracefs');
      const prepared = prepare(options, session, log, env.pcap, env.cache, times);
      backend = prepared.backend;
      if (prepared.ksyms) session.useKsyms?.(prepared.ksyms);
      const { plan } = prepared;
      lap('Generated programs', {
        backend,
        programs: plan.programs.length,
        instructions: plan.programs.reduce((n, p) => n + p.insns.length, 0),
      });
      const d = prepared.dumps;
      session.createMaps({
        ringBytes: RING_BYTES,
        stacks: options.outputStack,
        track: prepared.track !== undefined,
        ...(d ? { dumps: { ringBytes: dumpRingBytes(d), bufferValueSize: dumpBufferValueSize(d) } } : {}),
        ...(prepared.packets
          ? {
              packets: {
                ringBytes: packetRingBytes(prepared.packets),
                bufferValueSize: packetBufferValueSize(prepared.packets),
              },
            }
          : {}),
        // --output-bpfmap parks map lookups' events in the return entry map too.
        ...(plan.layout.ret >= 0 || plan.programs.some((p) => isReturnKind(p.kind))
          ? { returns: { eventSize: plan.layout.size } }
          : {}),
      });
      times?.end('maps');
      const ignored = new IgnoredTargets();
      const loaded = loadPrograms(plan.programs, session, ignored, log, times);
      lap('Loaded programs', ignored.count > 0 ? { refused: ignored.count } : {});

      const signal = env.signal ?? new AbortController().signal;
      const kernelProgs = loaded.filter((p) => !isBpfProgTracer(p));
      // skb tracking's map maintenance, ordered around the event programs (see TrackerProgram.order).
      const trackers = (order: 'before' | 'after'): void => {
        const list = prepared.track?.trackers.filter((x) => x.order === order) ?? [];
        if (list.length === 0 || signal.aborted) return;
        if (!session.attachTrackers) throw new PwruError('skb tracking is not available with this kernel session');
        attachments.push(
          ...session.attachTrackers(list, (what, why) =>
            log.debug('Skb tracking skips a missing function', { at: what, error: why }),
          ),
        );
      };
      trackers('before');
      if (kernelProgs.length > 0) {
        log.info(ATTACH_WORDS[plan.backend][0], { via: plan.backend });
        const bar = progress(plan.targets);
        bar.add(ignored.count); // refused at load: never attached
        for (const p of kernelProgs) {
          if (signal.aborted) break;
          const r = await session.attach(p, (n) => bar.add(n), signal);
          attachments.push(...r.attachments);
          ignored.add(r.ignored, r.failures);
        }
        bar.finish();
      }
      trackers('after');
      ignored.add(await attachBpfProgs(loaded.filter(isBpfProgTracer), session, log, signal, attachments));
      times?.end('attach');
      ignored.report(log);
      log.info('Attached', { ignored: ignored.count });
      if (times) log.debug('Start-up phases', { ...times.attrs(), unit: 'ms' });
      if (attachments.length === 0 && !signal.aborted) {
        const first = ignored.first[0];
        throw new PwruError(
          `No kprobe/tracepoint could be attached${first ? ` (${ignored.count} ignored; the first, ${first.target}: ${first.error})` : ''}`,
        );
      }
      return new Tracer(
        options,
        plan,
        prepared.btf,
        prepared.ksyms,
        env,
        attachments,
        ignored.count,
        prepared.metadata,
        prepared.xdpMetadata,
        prepared.returns,
      );
    } catch (e) {
      await detachAll(attachments, env, backend);
      env.session.close();
      throw e;
    }
  }

  /**
   * Calls `each` for every record as it arrives (zero copy: the view is valid only during the
   * call; decode it with {@link decode}), and `onBatch` after each drained batch. The fast path
   * the CLI prints from.
   */
  subscribe(each: (view: DataView, offset: number, size: number) => void, onBatch: () => void): void {
    this.open().subscribe(each, onBatch);
  }

  /**
   * Decodes up to `max` waiting records, calling `each` with each decoded event; returns how
   * many. Records not taken stay in the ring buffer (when it fills, the programs count losses).
   */
  take(each: (event: PwruEvent) => void, max: number): number {
    const layout = this.plan.layout;
    return this.open().consume((view, off) => each(this.withDumps(decodeEvent(view, off, layout))), max);
  }

  /** Resolves when records are waiting (or the tracer closes). */
  waitForEvents(): Promise<void> {
    return this.open().wait();
  }

  /** Decodes the record at `offset` of `view` (inside a {@link subscribe} callback). */
  decode(view: DataView, offset: number): PwruEvent {
    return this.withDumps(decodeEvent(view, offset, this.plan.layout));
  }

  /** Attaches the event's skb dumps (read from their own ring buffer) when the run makes them. */
  private withDumps(ev: PwruEvent): PwruEvent {
    // A return event repeats its entry's record; the dumps were printed with the entry.
    return this.dumps && ev.kind !== EventKind.Return ? this.dumps.attach(ev) : ev;
  }

  /**
   * With `--output-pcapng`: the packet bytes the kernel copied for `ev` (call once per event, in
   * order; undefined for return events, which carry no copy, and when the copy was lost).
   */
  packetOf(ev: PwruEvent): CapturedPacket | undefined {
    return this.packets && ev.kind !== EventKind.Return ? this.packets.take(ev) : undefined;
  }

  /** Events the programs could not deliver because the ring buffer was full (all CPUs). */
  lost(): number {
    return this.env.session.lost();
  }

  /** Logs a warning when losses grew since the last report (call periodically). */
  reportLost(final = false): void {
    const lost = this.lost();
    if (lost > this.lostReported || (final && lost > 0)) {
      this.env.log.warn(
        final ? 'Some events were lost: the ring buffer was full' : 'Events lost: the ring buffer is full',
        { total: lost },
      );
      this.lostReported = lost;
    }
    const dumpsLost = this.dumps?.lost ?? 0;
    if (final && dumpsLost > 0)
      this.env.log.warn('Some skb dumps were lost: the skb_dumps ring buffer was full', { total: dumpsLost });
    const packetsMissing = this.packets?.missing ?? 0;
    if (final && packetsMissing > 0)
      this.env.log.info(
        'Some events carry no packet bytes in the pcapng output (no header set, or the skb_packets ring buffer was full)',
        { total: packetsMissing },
      );
  }

  /**
   * Stops reading, detaches every probe (with progress, as upstream's "Detaching kprobes..."),
   * reports losses and frees the maps and programs. Safe to call more than once.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        this.reader?.close();
      } catch {
        // Unmapping failed: the session's close releases the map anyway.
      }
      await detachAll(
        this.attachments,
        this.env,
        this.plan.backend,
        this.plan.programs.every((p) => p.attach.type === 'bpf-prog'),
      );
      try {
        this.reportLost(true);
      } catch {
        // The counters are gone with a failed session.
      }
      this.env.session.close();
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private open(): RingReader {
    if (this.closing) throw new PwruError('the tracer is closed');
    this.reader ??= this.env.session.reader();
    return this.reader;
  }
}

/**
 * Loads every planned program. A program of one kernel function (fentry, fexit) that the kernel
 * refuses is skipped and counted in `ignored`, as the kprobe backends skip functions they cannot
 * probe; any other failure is thrown.
 */
function loadPrograms(
  programs: readonly PlannedProgram[],
  session: KernelSession,
  ignored: IgnoredTargets,
  log: Logger,
  times?: StartupTimes,
): LoadedProgram[] {
  const loaded: LoadedProgram[] = [];
  for (const p of programs) {
    const t = performance.now();
    try {
      loaded.push(session.load(p));
      if (log.debugEnabled)
        log.debug('Loaded program', {
          name: p.name,
          instructions: p.insns.length,
          ms: +(performance.now() - t).toFixed(1),
        });
      times?.end('verifier');
    } catch (e) {
      times?.end('verifier');
      const perFunction = p.attach.type === 'fentry' || p.attach.type === 'fexit';
      if (!(e instanceof ProgramRefusedError) || !perFunction) throw e;
      ignored.add(1, [{ target: e.target, error: e.reason }]);
    }
  }
  return loaded;
}

async function detachAll(
  attachments: Attachment[],
  env: TracerEnv,
  backend: Backend | undefined,
  onlyBpfProgs = false,
): Promise<void> {
  if (attachments.length === 0) return;
  env.log.info(onlyBpfProgs ? 'Detaching bpf progs...' : ATTACH_WORDS[backend ?? 'kprobe'][1]);
  const total = attachments.reduce((n, a) => n + a.count, 0);
  const bar = (env.progress ?? noProgress)(total);
  const tracked = env.detachProgress;
  tracked?.begin(total, backend);
  try {
    for (const a of attachments.splice(0)) {
      try {
        await a.detach((n) => {
          bar.add(n);
          tracked?.advance(n);
        });
      } catch {
        // Closing its program's fd detaches it anyway.
      }
    }
  } finally {
    tracked?.end();
  }
  bar.finish();
}

/**
 * A fresh machine has no tracefs mounted; pwru's kprobe backends need its function list, so as
 * root pwru mounts it (saying so once) rather than falling back to kallsyms silently.
 */
function mountTracefsIfMissing(session: KernelSession, log: Logger): void {
  try {
    const path = session.ensureTracefs?.();
    if (path !== undefined)
      log.info('Mounted tracefs: it was not mounted, and kprobes need its function list', { path });
  } catch (e) {
    log.warn(`Cannot mount tracefs: ${(e as Error).message.split('\n')[0]}`);
  }
}
