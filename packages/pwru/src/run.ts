import { writeFileSync } from 'node:fs';
import { type Btf, funcSignature, KernelBtfCache, skbFunctions } from 'btf-parser';
import { type Backend, chooseBackend } from './backend.js';
import { functionMatcher } from './discovery/filter-func.js';
import { type Attachable, discoverSkbFunctions, readAvailableFilterFunctions, type SkbFunc } from './discovery/functions.js';
import { discoverSkbTracepoints } from './discovery/tracepoints.js';
import { PwruError } from './errors.js';
import { type Addr64, decodeEvent, eventLayout } from './event.js';
import type { PwruOptions } from './flags/spec.js';
import { kernelLayoutFromBtf } from './generate/btf-layout.js';
import { frameFor } from './generate/program.js';
import { compileSkbExpr, skbExprFragment } from './generate/skb-expr.js';
import { compileSkbMetadata, formatMetadataValue, type SkbMetadata } from './generate/skb-metadata.js';
import type { Emitter } from './generate/emitter.js';
import type { Attachment, KernelSession } from './kernel/session.js';
import { Ksyms } from './ksyms.js';
import type { Logger } from './log.js';
import { currentNetnsInode, InterfaceCache, parseNetnsSpec, resolveIfname } from './netns.js';
import { JsonPrinter } from './output/json.js';
import { TIMESTAMP_MODES } from './output/options.js';
import { TextPrinter } from './output/text.js';
import { BatchWriter } from './output/writer.js';
import { planTrace, type TracePlan } from './plan.js';
import { ProgressBar } from './progress.js';
import { liveContext } from './run-context.js';
import type { Instruction } from 'bpf-asm-ts';

/** Compiles the pcap filter into subprograms and a filter fragment (provided by the pcap module). */
export type PcapCompiler = (
  o: { expr: string; tunnelL2: string; tunnelL3: string },
  kernel: ReturnType<typeof kernelLayoutFromBtf>,
  frame: ReturnType<typeof frameFor>,
) => { subprograms: Instruction[]; fragment: (e: Emitter, reject: string) => void } | undefined;

/** Where a run writes and how it is stopped. */
export interface RunIO {
  readonly log: Logger;
  /** File descriptor trace lines go to (stdout). */
  readonly out: number;
  /** Aborted on SIGINT/SIGTERM. */
  readonly signal: AbortSignal;
  /** Progress bars go here (stderr). */
  readonly progress: (total: number) => ProgressBar;
}

/** The ring buffer: 4 MiB, a power of two as the kernel requires. */
export const RING_BYTES = 4 << 20;

function validate(opts: PwruOptions): void {
  if (!(TIMESTAMP_MODES as readonly string[]).includes(opts.timestamp)) {
    throw new PwruError(`--timestamp must be one of "current", "relative", "absolute", "none", not ${JSON.stringify(opts.timestamp)}`);
  }
  if (opts.filterKprobeBatch === 0) throw new PwruError('--filter-kprobe-batch must be greater than 0');
  if (opts.filterIfname !== '' && opts.filterNetns.startsWith('inode:')) {
    throw new PwruError('inode netns specifier cannot be used with --filter-ifname');
  }
}

function loadBtf(opts: PwruOptions, cache: KernelBtfCache): Btf {
  try {
    return cache.vmlinux();
  } catch (e) {
    throw new PwruError(`Failed to load BTF spec: ${(e as Error).message}${opts.kernelBtf ? '' : ' (pass --kernel-btf <file>)'}`);
  }
}

function moduleBtfs(opts: PwruOptions, cache: KernelBtfCache): Array<{ name: string; btf: Btf }> {
  const names = opts.allKmods ? cache.moduleNames() : opts.kmods;
  return names.map((name) => {
    try {
      return { name, btf: cache.module(name) };
    } catch (e) {
      throw new PwruError(`failed to open /sys/kernel/btf/${name}: ${(e as Error).message}`);
    }
  });
}

function attachableFunctions(log: Logger, ksyms: Ksyms | undefined): Attachable {
  const tracefs = readAvailableFilterFunctions();
  if (tracefs) return tracefs;
  if (!ksyms) throw new PwruError('cannot read available_filter_functions nor /proc/kallsyms: run pwru as root');
  log.warn('Failed to retrieve available ftrace functions (is /sys/kernel/tracing or /sys/kernel/debug/tracing mounted?); using kallsyms text symbols instead');
  return { names: ksyms.textSymbols(), source: 'kallsyms' };
}

/** Discovers targets and generates every program of the run. */
export function prepare(
  opts: PwruOptions,
  session: KernelSession,
  log: Logger,
  pcap: PcapCompiler | undefined,
  cache: KernelBtfCache = new KernelBtfCache(opts.kernelBtf ? { path: opts.kernelBtf } : {}),
): { plan: TracePlan; btf: Btf; ksyms: Ksyms | undefined; backend: Backend; metadata: SkbMetadata[] } {
  validate(opts);
  const btf = loadBtf(opts, cache);
  const mods = moduleBtfs(opts, cache);
  const backend = chooseBackend(opts.backend, session.features());
  if (opts.outputCaller && (backend === 'tracepoint' || backend === 'fentry')) {
    throw new PwruError(`--output-caller needs the kprobe or kprobe-multi backend (the ${backend} backend has no return address to read)`);
  }
  const match = functionMatcher(opts.filterFunc);

  let ksyms: Ksyms | undefined;
  if (backend !== 'tracepoint' || opts.outputStack) {
    try {
      ksyms = Ksyms.load();
    } catch (e) {
      if (backend !== 'tracepoint') throw new PwruError((e as Error).message);
      log.warn('Failed to read /proc/kallsyms; stack symbols will be shown as addresses', { error: (e as Error).message });
    }
  }

  let functions: SkbFunc[] | undefined;
  let signatures: Map<string, { btfId: number; argCount: number }> | undefined;
  let tracepoints;
  if (backend === 'tracepoint') {
    tracepoints = discoverSkbTracepoints(btf, match);
    if (tracepoints.length === 0) throw new PwruError('Cannot find a matching kernel tracepoint');
  } else {
    const attachable = attachableFunctions(log, ksyms);
    if (backend === 'fentry') {
      // BTF-typed arguments: const skbs and positions beyond 5 are reachable too.
      signatures = new Map();
      functions = [];
      for (const fn of skbFunctions(btf)) {
        if (!match(fn.name) || !attachable.names.has(fn.name) || signatures.has(fn.name)) continue;
        const sig = funcSignature(btf, fn.id);
        signatures.set(fn.name, { btfId: fn.id, argCount: sig.params.length });
        functions.push({ name: fn.name, position: fn.params[0]!.position });
      }
    } else {
      functions = discoverSkbFunctions(btf, mods, match, attachable);
    }
    if (functions.length === 0) throw new PwruError('Cannot find a matching kernel function');
  }

  // Cheap filters: mark, netns, ifindex.
  let netns = 0;
  let ifindex = 0;
  if (opts.filterNetns !== '' || opts.filterIfname !== '') {
    netns = opts.filterNetns !== '' ? parseNetnsSpec(opts.filterNetns) : currentNetnsInode();
    if (opts.filterIfname !== '') ifindex = resolveIfname(opts.filterIfname, netns, new InterfaceCache());
  }

  const kernel = kernelLayoutFromBtf(btf);
  const frame = frameFor(kernel);
  const fragments: Array<(e: Emitter, reject: string) => void> = [];
  let subprograms: Instruction[] = [];
  if (opts.filterPcap !== '' || opts.filterTunnelPcapL2 !== '' || opts.filterTunnelPcapL3 !== '') {
    if (!pcap) throw new PwruError('pcap filters need the pcap2ebpf eBPF lowering, which this build lacks');
    const compiled = pcap({ expr: opts.filterPcap, tunnelL2: opts.filterTunnelPcapL2, tunnelL3: opts.filterTunnelPcapL3 }, kernel, frame);
    if (compiled) {
      fragments.push(compiled.fragment);
      subprograms = compiled.subprograms;
    }
  }
  if (opts.filterSkbExpr !== '') fragments.push(skbExprFragment(compileSkbExpr(btf, opts.filterSkbExpr), frame));

  const metadata = compileSkbMetadata(btf, opts.outputSkbMetadata);
  const layout = eventLayout({
    metadata: metadata.length,
    meta: opts.outputMeta || opts.outputNetnsNames,
    cb: opts.outputSkbCb,
    tuple: opts.outputTuple,
    tunnel: opts.outputTunnel,
    stack: opts.outputStack,
    caller: opts.outputCaller,
  });
  const plan = planTrace({
    backend,
    layout,
    kernel,
    filters: { mark: opts.filterMark.mark, mask: opts.filterMark.mask, netns, ifindex },
    fragments,
    ...(functions ? { functions } : {}),
    ...(signatures ? { signatures } : {}),
    ...(tracepoints ? { tracepoints } : {}),
    haveFuncIp: backend !== 'tracepoint' && session.haveFuncIp(),
    metadata,
  });
  if (subprograms.length > 0) for (const p of plan.programs) p.insns.push(...subprograms);
  return { plan, btf, ksyms, backend, metadata };
}

const ATTACH_WORDS: Record<Backend, [string, string]> = {
  kprobe: ['Attaching kprobes', 'Detaching kprobes...'],
  'kprobe-multi': ['Attaching kprobes', 'Detaching kprobes...'],
  tracepoint: ['Attaching tracepoints', 'Detaching tracepoints...'],
  fentry: ['Attaching fentry programs', 'Detaching fentry programs...'],
};

/**
 * Runs a trace to the end: load, attach with a progress bar, print events until the line limit
 * or a signal, then detach and report loss. Returns the exit status.
 */
export async function run(opts: PwruOptions, session: KernelSession, io: RunIO, pcap?: PcapCompiler, cache?: KernelBtfCache): Promise<number> {
  const { log } = io;
  const attachments: Attachment[] = [];
  let lostReported = 0;
  const reportLost = (final: boolean): void => {
    const lost = session.lost();
    if (lost > lostReported || (final && lost > 0)) {
      log.warn(final ? 'Some events were lost: the ring buffer was full' : 'Events lost: the ring buffer is full', { total: lost });
      lostReported = lost;
    }
  };
  let backend: Backend | undefined;
  try {
    let t = performance.now();
    const lap = (what: string, attrs: Record<string, unknown> = {}): void => {
      const now = performance.now();
      log.debug(what, { ...attrs, ms: Math.round(now - t) });
      t = now;
    };
    lap('Started', { since_process_start_ms: Math.round(performance.now()) });
    const prepared = prepare(opts, session, log, pcap, cache);
    backend = prepared.backend;
    const { plan } = prepared;
    lap('Generated programs', { backend, programs: plan.programs.length, instructions: plan.programs.reduce((n, p) => n + p.insns.length, 0) });
    session.createMaps({ ringBytes: RING_BYTES, stacks: opts.outputStack });
    const loaded = plan.programs.map((p) => session.load(p));
    lap('Loaded programs');

    log.info(ATTACH_WORDS[plan.backend][0], { via: plan.backend });
    const bar = io.progress(plan.targets);
    let ignored = 0;
    for (const p of loaded) {
      if (io.signal.aborted) break;
      const r = await session.attach(p, (n) => bar.add(n), io.signal);
      attachments.push(...r.attachments);
      ignored += r.ignored;
    }
    bar.finish();
    log.info('Attached', { ignored });
    if (attachments.length === 0 && !io.signal.aborted) throw new PwruError('No kprobe/tracepoint could be attached');

    log.info('Listening for events..');
    if (opts.readyFile !== '') writeFileSync(opts.readyFile, '');

    const ctx = {
      ...liveContext({ sites: plan.sites, ksyms: prepared.ksyms, btf: prepared.btf, stack: (id) => session.stack(id), netnsNames: opts.outputNetnsNames }),
      metadata: prepared.metadata.map((x) => ({ field: x.field, format: (v: Addr64) => formatMetadataValue(x, v) })),
    };
    const printer = opts.outputJson ? new JsonPrinter(opts, ctx) : new TextPrinter(opts, ctx);
    const writer = new BatchWriter(io.out);
    writer.write(printer.header());
    writer.flush();
    const reader = session.reader();
    const limit = opts.outputLimitLines;
    const layout = plan.layout;
    let count = 0;
    await new Promise<void>((resolve) => {
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        clearInterval(lossTimer);
        io.signal.removeEventListener('abort', finish);
        reader.close();
        resolve();
      };
      const lossTimer = setInterval(() => reportLost(false), 1000);
      if (io.signal.aborted) return finish();
      io.signal.addEventListener('abort', finish, { once: true });
      reader.subscribe(
        (view, off) => {
          if (limit !== 0 && count >= limit) return;
          writer.write(printer.format(decodeEvent(view, off, layout)));
          if (++count === limit) {
            writer.flush();
            // Not from inside the reader's callback: it is still walking the mapped buffer.
            setImmediate(finish);
          }
        },
        () => writer.flush(),
      );
    });
    writer.flush();
    if (limit !== 0 && count >= limit) log.info('Printed events, exiting program..', { count });
    else log.info('Received signal, exiting program..');
    return 0;
  } catch (e) {
    if (e instanceof Error && (e as NodeJS.ErrnoException).code === 'EPIPE') return 0;
    log.error('Failed to run pwru', { error: describeError(e) });
    return 1;
  } finally {
    if (attachments.length > 0) {
      log.info(ATTACH_WORDS[backend ?? 'kprobe'][1]);
      const bar = io.progress(attachments.reduce((n, a) => n + a.count, 0));
      for (const a of attachments) {
        try {
          await a.detach((n) => bar.add(n));
        } catch {
          // Closing its program's fd detaches it anyway.
        }
      }
      bar.finish();
    }
    try {
      reportLost(true);
    } catch {
      // Maps may not exist if loading failed.
    }
    session.close();
  }
}

/** One line for any error: the message, never a stack. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0]!;
  return String(e);
}
