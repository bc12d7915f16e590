import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { type Btf, KernelBtfCache, skbFunctions } from 'btf-parser';
import { type Backend, chooseBackend } from './backend.js';
import { functionMatcher } from './discovery/filter-func.js';
import {
  type Attachable,
  discoverSkbFunctions,
  readAvailableFilterFunctions,
  type SkbFunc,
} from './discovery/functions.js';
import { discoverSkbTracepoints, type SkbTracepoint } from './discovery/tracepoints.js';
import { PrivilegeError, PwruError } from './errors.js';
import { checkBpfmapBackend, jitedMapScan, withBpfMapFunctions } from './bpfmap.js';
import { type EventLayout, eventLayout } from './event.js';
import { bpfMapFields } from './generate/bpfmap.js';
import type { PwruOptions } from './flags/spec.js';
import { kernelLayoutFromBtf } from './generate/btf-layout.js';
import { frameFor, type ProgramFilters } from './generate/program.js';
import { fentrySignature, type FentrySignature } from './generate/fentry-args.js';
import { compileFilterExpr, filterExprFragment } from './filter-expr/index.js';
import { type CtFields, ctFieldsFromBtf } from './ct/fields.js';
import { LOADED_WITHOUT_BTF, type NetfilterFields, netfilterFieldsFromBtf } from './netfilter/fields.js';
import { checkNetfilterBackend } from './netfilter/plan.js';
import { compileSkbMetadata, compileXdpMetadata, type SkbMetadata } from './generate/skb-metadata.js';
import {
  type BpfProgTracing,
  bpfProgTracingOf,
  checkXdpOptions,
  prepareBpfProgs,
  withBpfPrograms,
} from './plan/bpf-prog-probes.js';
import { jitedBpfHelperCalls, withBpfHelpers } from './kernel/bpf-helpers.js';
import type { Emitter } from './generate/emitter.js';
import type { KernelSession } from './kernel/session.js';
import { Ksyms } from './ksyms.js';
import type { Logger } from './log.js';
import { currentNetnsInode, InterfaceCache, parseNetnsSpec, resolveIfname } from './netns.js';
import { TIMESTAMP_MODES } from './output/options.js';
import { planSkbDumps, type SkbDumpPlan } from './generate/skb-dump.js';
import { planSkbPackets, type SkbPacketPlan } from './generate/skb-packet.js';
import { planTrace, type TracePlan } from './plan/programs.js';
import { ReturnFormats, type ReturnFormat } from './output/retval.js';
import { checkReturnBackend, planBpfProgReturns, returnFormats } from './plan/return-probes.js';
import { isReturnKind } from './generate/return.js';
import { nonSkbFunctions, planTracking, type TrackPlan } from './plan/skb-tracking.js';
import { invisiblePath } from './visibility.js';
import type { Instruction } from 'bpf-asm-ts';
import type { StartupTimes } from './timing.js';
import type { KernelLayout } from './generate/layout.js';
import type { TrackGen } from './generate/tracking-code.js';

/** Compiles the pcap filter into subprograms and a filter fragment (provided by the pcap module). */
export type PcapCompiler = (
  o: { expr: string; tunnelL2: string; tunnelL3: string },
  kernel: ReturnType<typeof kernelLayoutFromBtf>,
  frame: ReturnType<typeof frameFor>,
) => { subprograms: Instruction[]; fragment: (e: Emitter, reject: string) => void } | undefined;

/** The ring buffer: 4 MiB, a power of two as the kernel requires. */
export const RING_BYTES = 4 << 20;

/** What {@link prepare} hands the tracer: the programs to load, and what it needs to attach and print them. */
export interface PreparedRun {
  readonly plan: TracePlan;
  readonly btf: Btf;
  /** kallsyms, when a step needed it (the tracer reuses it for stacks and addresses). */
  readonly ksyms: Ksyms | undefined;
  readonly backend: Backend;
  readonly metadata: SkbMetadata[];
  readonly dumps: SkbDumpPlan | undefined;
  readonly packets?: SkbPacketPlan;
  readonly xdpMetadata: SkbMetadata[];
  readonly returns?: ReturnFormats;
  readonly track?: TrackPlan;
}

/**
 * Discovers targets and generates every program of the run, in the steps `--debug` times:
 * `probes` (options against the kernel: BTF, backend), `discovery` (the functions or tracepoints
 * to attach to), `layout` (kernel offsets, the cheap filters, skb tracking), `pcap` (the pcap
 * filters) and `generation` (the event layout and the programs). Each step throws a
 * {@link PwruError} that says what to change.
 */
export function prepare(
  opts: PwruOptions,
  session: KernelSession,
  log: Logger,
  pcap: PcapCompiler | undefined,
  cache: KernelBtfCache = new KernelBtfCache(opts.kernelBtf ? { path: opts.kernelBtf } : {}),
  times?: StartupTimes,
): PreparedRun {
  const kernelFiles = new KernelFiles();
  const probed = probeKernel(opts, session, log, cache, kernelFiles);
  times?.end('probes');
  const targets = discoverTargets(probed, log, kernelFiles);
  times?.end('discovery');
  const layout = layOut(probed, session, targets, log);
  times?.end('layout');
  const pcapFilter = compilePcap(probed.opts, pcap, layout);
  times?.end('pcap');
  const prepared = generatePrograms(probed, session, log, cache, targets, layout, pcapFilter);
  times?.end('generation');
  reportBlindSpots(probed, session, log, layout.track);
  return prepared;
}

/**
 * Kernel files read at most once per run, however many steps need them: /proc/kallsyms, and the
 * JITed programs' helper calls from /proc/kcore (for `--filter-track-bpf-helpers` and
 * `--output-bpfmap`).
 */
class KernelFiles {
  private ksyms: Ksyms | undefined;
  private jitCalls: string[] | undefined;
  readonly loadKsyms = (): Ksyms => (this.ksyms ??= Ksyms.load());
  readonly scanJit = (k: Ksyms): string[] => (this.jitCalls ??= jitedBpfHelperCalls(k));
}

/** The options as the kernel allows them: what {@link probeKernel} found. */
interface ProbedKernel {
  /** The options, with the functions `--filter-track-bpf-helpers` and `--output-bpfmap` add. */
  readonly opts: PwruOptions;
  readonly btf: Btf;
  readonly mods: Array<{ name: string; btf: Btf }>;
  readonly backend: Backend;
  readonly bpfProgs: BpfProgTracing;
}

/**
 * Step `probes`: checks the options and privileges, loads the kernel's and modules' BTF, chooses
 * the backend and refuses the options it cannot serve, and adds the functions the BPF-helper and
 * map options trace.
 */
function probeKernel(
  opts: PwruOptions,
  session: KernelSession,
  log: Logger,
  cache: KernelBtfCache,
  files: KernelFiles,
): ProbedKernel {
  validate(opts);
  const unprivileged = session.missingPrivileges?.();
  if (unprivileged) throw new PrivilegeError(unprivileged);
  if (opts.filterTrackBpfHelpers) opts = withBpfHelpers(opts, log, files.scanJit, files.loadKsyms);
  const bpfProgs = bpfProgTracingOf(opts);
  checkXdpOptions(opts, bpfProgs);
  const btf = loadBtf(opts, cache);
  const mods = moduleBtfs(opts, cache);
  const backend = chooseBackend(
    opts.backend,
    session.features(),
    opts.backend === 'fentry' ? { fentry: session.fentryRefusal?.() } : {},
  );
  checkBackendOptions(opts, session, backend, bpfProgs);
  if (opts.outputBpfmap) opts = withBpfMapFunctions(opts, btf, log, jitedMapScan(files.loadKsyms, files.scanJit));
  return { opts, btf, mods, backend, bpfProgs };
}

function validate(opts: PwruOptions): void {
  if (!(TIMESTAMP_MODES as readonly string[]).includes(opts.timestamp)) {
    throw new PwruError(
      `--timestamp must be one of "current", "relative", "absolute", "none", not ${JSON.stringify(opts.timestamp)}`,
    );
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
    throw new PwruError(
      `Failed to load BTF spec: ${(e as Error).message}${opts.kernelBtf ? '' : ' (pass --kernel-btf <file>)'}`,
    );
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

/** Refuses the output options the chosen backend (or the kernel's helpers) cannot serve. */
function checkBackendOptions(
  opts: PwruOptions,
  session: KernelSession,
  backend: Backend,
  bpfProgs: BpfProgTracing,
): void {
  if (opts.outputCaller && (backend === 'tracepoint' || backend === 'fentry')) {
    throw new PwruError(
      `--output-caller needs the kprobe or kprobe-multi backend (the ${backend} backend has no return address to read)`,
    );
  }
  if (opts.outputReturn) {
    if (!bpfProgs.only) checkReturnBackend(backend);
    if (!session.haveFuncIp())
      throw new PwruError(
        '--output-return needs the bpf_get_func_ip helper (Linux 5.15+) to match returns with their calls',
      );
  }
  if (opts.outputNetfilter) checkNetfilterBackend(backend);
  if (opts.outputBpfmap) {
    checkBpfmapBackend(backend, session.features());
    if (!session.haveFuncIp())
      throw new PwruError(
        '--output-bpfmap needs the bpf_get_func_ip helper (Linux 5.15+) to match map lookups with their returns',
      );
  }
}

/** What the run attaches to: kernel functions (with their BTF signatures for fentry) or tracepoints. */
interface Targets {
  readonly ksyms: Ksyms | undefined;
  readonly functions?: SkbFunc[];
  readonly signatures?: Map<string, FentrySignature>;
  readonly tracepoints?: SkbTracepoint[];
}

/**
 * Step `discovery`: the skb functions (or tracepoints, with the tracepoint backend) that
 * `--filter-func` matches and the kernel can attach to; none with `--trace-only-bpf`.
 */
function discoverTargets(probed: ProbedKernel, log: Logger, files: KernelFiles): Targets {
  const { opts, btf, mods, backend, bpfProgs } = probed;
  const match = functionMatcher(opts.filterFunc);
  const ksyms = readKallsyms(probed, log, files);
  if (bpfProgs.only) {
    // --trace-only-bpf: no kernel functions nor tracepoints.
    if (backend === 'tracepoint') return { ksyms, tracepoints: [] };
    // Non-skb functions still attach: with fentry each needs its BTF signature.
    return { ksyms, functions: [], ...(backend === 'fentry' ? { signatures: new Map() } : {}) };
  }
  const orBpfProgs = bpfProgs.tc || bpfProgs.xdp;
  if (backend === 'tracepoint') {
    const tracepoints = discoverSkbTracepoints(btf, match);
    if (tracepoints.length === 0 && !orBpfProgs) throw new PwruError('Cannot find a matching kernel tracepoint');
    return { ksyms, tracepoints };
  }
  const attachable = attachableFunctions(log, ksyms);
  let functions: SkbFunc[];
  let signatures: Map<string, FentrySignature> | undefined;
  if (backend === 'fentry') {
    // BTF-typed arguments: const skbs and positions beyond 5 are reachable too.
    signatures = new Map();
    functions = [];
    for (const fn of skbFunctions(btf)) {
      if (!match(fn.name) || !attachable.names.has(fn.name) || signatures.has(fn.name)) continue;
      signatures.set(fn.name, fentrySignature(btf, fn.id));
      functions.push({ name: fn.name, position: fn.params[0]!.position });
    }
  } else {
    functions = discoverSkbFunctions(btf, mods, match, attachable);
  }
  if (functions.length === 0 && !orBpfProgs) throw new PwruError('Cannot find a matching kernel function');
  return { ksyms, functions, ...(signatures ? { signatures } : {}) };
}

/**
 * kallsyms, when the run needs it: kernel functions (and non-skb functions, also with
 * `--trace-only-bpf`) are named through it, and `--output-stack` symbolizes with it. Optional with
 * the tracepoint backend (stacks then show addresses).
 */
function readKallsyms(probed: ProbedKernel, log: Logger, files: KernelFiles): Ksyms | undefined {
  const { opts, backend, bpfProgs } = probed;
  const functions = backend !== 'tracepoint' && (!bpfProgs.only || opts.filterNonSkbFuncs.length > 0);
  if (!functions && !opts.outputStack) return undefined;
  try {
    return files.loadKsyms();
  } catch (e) {
    if (backend !== 'tracepoint') throw new PwruError((e as Error).message);
    log.warn('Failed to read /proc/kallsyms; stack symbols will be shown as addresses', {
      error: (e as Error).message,
    });
    return undefined;
  }
}

function attachableFunctions(log: Logger, ksyms: Ksyms | undefined): Attachable {
  const tracefs = readAvailableFilterFunctions();
  if (tracefs) return tracefs;
  if (!ksyms) throw new PwruError('cannot read available_filter_functions nor /proc/kallsyms: run pwru as root');
  log.warn(
    'Failed to retrieve available ftrace functions (is /sys/kernel/tracing or /sys/kernel/debug/tracing mounted?); using kallsyms text symbols instead',
  );
  return { names: ksyms.textSymbols(), source: 'kallsyms' };
}

/** The kernel's offsets, the cheap filters' values and the skb tracking plan: what {@link layOut} found. */
interface RunLayout {
  readonly kernel: KernelLayout;
  readonly frame: ReturnType<typeof frameFor>;
  /** `--filter-mark`, `--filter-netns` and `--filter-ifname`, resolved. */
  readonly filters: ProgramFilters;
  readonly track: TrackPlan | undefined;
  /** What the generated programs splice in for tracking (with XDP heads when XDP is traced). */
  readonly trackGen: TrackGen | undefined;
  readonly nonSkb: ReturnType<typeof nonSkbFunctions> | undefined;
}

/**
 * Step `layout`: the kernel's struct offsets from BTF, the netns and interface filters resolved
 * to numbers, and which skb tracking the options and kernel call for.
 */
function layOut(probed: ProbedKernel, session: KernelSession, targets: Targets, log: Logger): RunLayout {
  const { opts, btf, backend, bpfProgs } = probed;
  // Cheap filters: mark, netns, ifindex.
  let netns = 0;
  let ifindex = 0;
  if (opts.filterNetns !== '' || opts.filterIfname !== '') {
    netns = opts.filterNetns !== '' ? parseNetnsSpec(opts.filterNetns) : currentNetnsInode();
    if (opts.filterIfname !== '') ifindex = resolveIfname(opts.filterIfname, netns, new InterfaceCache());
  }
  const kernel = kernelLayoutFromBtf(btf);
  const frame = frameFor(kernel);
  const track = planTracking({ opts, backend, features: session.features(), btf, kernel });
  // With XDP tracing, --filter-track-skb also links XDP buffers and skbs (data_hard_start = skb->head).
  const trackGen = track ? { ...track.gen, ...(track.gen.skb && bpfProgs.xdp ? { xdpHeads: true } : {}) } : undefined;
  const nonSkb = track
    ? nonSkbFunctions(opts, btf, backend, targets.functions ?? [], targets.signatures, log)
    : undefined;
  const filters = { mark: opts.filterMark.mark, mask: opts.filterMark.mask, netns, ifindex };
  return { kernel, frame, filters, track, trackGen, nonSkb };
}

/** A compiled filter: the code the programs call into and the check spliced into each. */
interface CompiledPcap {
  readonly subprograms: Instruction[];
  readonly fragments: Array<(e: Emitter, reject: string) => void>;
}

/** Step `pcap`: compiles `--filter-pcap` and the tunnel pcap filters, when given. */
function compilePcap(opts: PwruOptions, pcap: PcapCompiler | undefined, layout: RunLayout): CompiledPcap {
  if (opts.filterPcap === '' && opts.filterTunnelPcapL2 === '' && opts.filterTunnelPcapL3 === '') {
    return { subprograms: [], fragments: [] };
  }
  if (!pcap) throw new PwruError('pcap filters need the pcap2ebpf eBPF lowering, which this build lacks');
  const compiled = pcap(
    { expr: opts.filterPcap, tunnelL2: opts.filterTunnelPcapL2, tunnelL3: opts.filterTunnelPcapL3 },
    layout.kernel,
    layout.frame,
  );
  return compiled
    ? { subprograms: compiled.subprograms, fragments: [compiled.fragment] }
    : { subprograms: [], fragments: [] };
}

/**
 * Step `generation`: what each event carries (`--output-*`), then the programs: one per target
 * ({@link planTrace}) with the pcap subprograms linked in, and the tc/XDP program tracers.
 */
function generatePrograms(
  probed: ProbedKernel,
  session: KernelSession,
  log: Logger,
  cache: KernelBtfCache,
  targets: Targets,
  layout: RunLayout,
  pcap: CompiledPcap,
): PreparedRun {
  const { opts, btf, mods, backend, bpfProgs } = probed;
  const { functions, signatures, tracepoints } = targets;
  const { kernel, trackGen, nonSkb, filters, track } = layout;
  const fragments = [...pcap.fragments];
  const subprograms = pcap.subprograms;
  if (opts.filterSkbExpr !== '')
    fragments.push(filterExprFragment(compileFilterExpr(btf, opts.filterSkbExpr), layout.frame));
  const out = eventContents(probed, log, cache);
  let returns: Map<string, ReturnFormat> | undefined;
  if (opts.outputReturn) returns = functions ? returnFormats(btf, mods, functions, signatures) : new Map();
  let plan = planTrace({
    backend,
    layout: out.layout,
    kernel,
    filters,
    fragments,
    ...(functions ? { functions } : {}),
    ...(signatures ? { signatures } : {}),
    ...(tracepoints ? { tracepoints } : {}),
    ...(backend === 'tracepoint' && session.haveRawTpCookies?.() ? { rawTpCookies: true } : {}),
    haveFuncIp: backend !== 'tracepoint' && session.haveFuncIp(),
    ...(backend === 'fentry' && session.haveFuncArg?.() ? { haveFuncArg: true } : {}),
    metadata: out.metadata,
    ...(out.dumps ? { dumps: out.dumps } : {}),
    ...(out.packets ? { packets: out.packets } : {}),
    ...(returns ? { returns } : {}),
    ...(trackGen ? { track: trackGen } : {}),
    ...(nonSkb ? { nonSkb } : {}),
    ...(opts.outputBpfmap ? { bpfmap: bpfMapFields(btf) } : {}),
    ...(out.ct ? { ct: out.ct } : {}),
    ...(out.netfilter ? { netfilter: out.netfilter } : {}),
  });
  if (subprograms.length > 0)
    for (const p of plan.programs) if (!isReturnKind(p.kind) && !p.unfiltered) p.insns.push(...subprograms);
  if (bpfProgs.tc || bpfProgs.xdp) {
    const bpf = prepareBpfProgs({
      opts,
      tracing: bpfProgs,
      session,
      log,
      btf,
      kernel,
      layout: out.layout,
      haveFuncIp: session.haveFuncIp(),
      firstSite: plan.sites.length,
      skbFilters: { ...filters, fragments },
      skbSubprograms: subprograms,
      skbMetadata: out.metadata,
      ...(out.dumps ? { skbDumps: out.dumps } : {}),
      ...(trackGen ? { skbTrack: trackGen } : {}),
      xdpMetadata: out.xdpMetadata,
      ...(out.packets ? { packets: out.packets } : {}),
    });
    plan = withBpfPrograms(plan, bpf);
    if (returns) {
      const r = planBpfProgReturns(bpf.programs, out.layout, btf);
      for (const [name, f] of r.formats) returns.set(name, f);
      plan = { ...plan, programs: [...plan.programs, ...r.programs] };
    }
    if (plan.programs.length === 0) throw new PwruError('No kprobe/tc-bpf/xdp to trace!');
  }
  return {
    plan,
    btf,
    ksyms: targets.ksyms,
    backend,
    metadata: out.metadata,
    dumps: out.dumps,
    ...(out.packets ? { packets: out.packets } : {}),
    xdpMetadata: out.xdpMetadata,
    ...(returns ? { returns: new ReturnFormats(returns) } : {}),
    ...(track ? { track } : {}),
  };
}

/** What each event carries, from the `--output-*` options: the offsets and the event layout. */
interface EventContents {
  readonly layout: EventLayout;
  readonly metadata: SkbMetadata[];
  readonly xdpMetadata: SkbMetadata[];
  readonly dumps: SkbDumpPlan | undefined;
  readonly packets: SkbPacketPlan | undefined;
  readonly ct: CtFields | undefined;
  readonly netfilter: NetfilterFields | undefined;
}

/**
 * The event's sections and the offsets that fill them: conntrack and netfilter fields (warning
 * about what this kernel lacks), skb metadata, dumps and packet copies.
 */
function eventContents(probed: ProbedKernel, log: Logger, cache: KernelBtfCache): EventContents {
  const { opts, btf, mods, bpfProgs } = probed;
  const ct = opts.outputCt ? ctFieldsFromBtf(btf) : undefined;
  for (const m of ct?.missing ?? []) log.warn(`--output-ct: ${m}`);
  const netfilter = opts.outputNetfilter ? netfilterFieldsFromBtf(btf, moduleBtfLookup(mods, cache)) : undefined;
  for (const m of netfilter?.missing ?? []) log.warn(`--output-netfilter: ${m}`);
  const metadata = compileSkbMetadata(btf, opts.outputSkbMetadata);
  const dumps = planSkbDumps(btf, {
    skb: opts.outputSkb,
    sharedInfo: opts.outputSkbSharedInfo,
    bufferBytes: opts.setPercpuBuf,
  });
  const packets = opts.outputPcapng !== '' ? planSkbPackets(btf, opts.outputPcapngSnaplen) : undefined;
  const xdpMetadata = bpfProgs.xdp ? compileXdpMetadata(btf, opts.outputXdpMetadata) : [];
  const layout = eventLayout({
    metadata: Math.max(metadata.length, xdpMetadata.length),
    meta: opts.outputMeta || opts.outputNetnsNames,
    cb: opts.outputSkbCb || bpfProgs.tc,
    tuple: opts.outputTuple || opts.outputSummaryByTuple,
    tunnel: opts.outputTunnel,
    stack: opts.outputStack,
    caller: opts.outputCaller,
    ret: opts.outputReturn,
    bpfmap: opts.outputBpfmap,
    ct: opts.outputCt,
    netfilter: opts.outputNetfilter,
    wire: opts.outputJson && opts.outputTuple,
  });
  return { layout, metadata, xdpMetadata, dumps, packets, ct, netfilter };
}

/**
 * A module's BTF by name for `--output-netfilter`: from `--kmods`, else loaded now. A module
 * loaded on a kernel without module BTF gives {@link LOADED_WITHOUT_BTF} before 5.16 (the
 * x_tables walkers' old prototype), nothing otherwise (later kernels are not guessed at).
 */
function moduleBtfLookup(
  mods: ReadonlyArray<{ name: string; btf: Btf }>,
  cache: KernelBtfCache,
): (name: string) => Btf | typeof LOADED_WITHOUT_BTF | undefined {
  return (name) => {
    try {
      return mods.find((m) => m.name === name)?.btf ?? cache.module(name);
    } catch {
      // Not loaded, or loaded on a kernel without module BTF: before 5.11, whose x_tables walkers
      // have the pre-5.16 prototype (later kernels without module BTF are not guessed at).
      const [major = 0, minor = 0] = release()
        .split('.')
        .map((x) => parseInt(x, 10));
      const old = major < 5 || (major === 5 && minor < 16);
      return old && existsSync(`/sys/module/${name}`) && !existsSync(`/sys/kernel/btf/${name}`)
        ? LOADED_WITHOUT_BTF
        : undefined;
    }
  };
}

/** Tells what this backend and kernel cannot see, and the limits of skb tracking here. */
function reportBlindSpots(
  probed: ProbedKernel,
  session: KernelSession,
  log: Logger,
  track: TrackPlan | undefined,
): void {
  const unseen = probed.bpfProgs.only ? undefined : invisiblePath(probed.opts, probed.backend, session.features());
  if (unseen) log.info(unseen);
  for (const limit of track?.limits ?? []) log.info(`Skb tracking on this kernel: ${limit}`);
}

/** One line for any error: the message, never a stack. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0]!;
  return String(e);
}
