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
import { eventLayout } from './event.js';
import { bpfMapFields } from './generate/bpfmap.js';
import type { PwruOptions } from './flags/spec.js';
import { kernelLayoutFromBtf } from './generate/btf-layout.js';
import { frameFor } from './generate/program.js';
import { fentrySignature, type FentrySignature } from './generate/fentry-args.js';
import { compileFilterExpr, filterExprFragment } from './filter-expr/index.js';
import { ctFieldsFromBtf } from './ct/fields.js';
import { LOADED_WITHOUT_BTF, netfilterFieldsFromBtf } from './netfilter/fields.js';
import { checkNetfilterBackend } from './netfilter/plan.js';
import { compileSkbMetadata, compileXdpMetadata, type SkbMetadata } from './generate/skb-metadata.js';
import { bpfProgTracingOf, checkXdpOptions, prepareBpfProgs, withBpfPrograms } from './plan-bpf-progs.js';
import { jitedBpfHelperCalls, withBpfHelpers } from './kernel/bpf-helpers.js';
import type { Emitter } from './generate/emitter.js';
import type { KernelSession } from './kernel/session.js';
import { Ksyms } from './ksyms.js';
import type { Logger } from './log.js';
import { currentNetnsInode, InterfaceCache, parseNetnsSpec, resolveIfname } from './netns.js';
import { TIMESTAMP_MODES } from './output/options.js';
import { planSkbDumps, type SkbDumpPlan } from './generate/skb-dump.js';
import { planSkbPackets, type SkbPacketPlan } from './generate/skb-packet.js';
import { planTrace, type TracePlan } from './plan.js';
import { ReturnFormats, type ReturnFormat } from './output/retval.js';
import { checkReturnBackend, planBpfProgReturns, returnFormats } from './returns.js';
import { isReturnKind } from './generate/return.js';
import { nonSkbFunctions, planTracking, type TrackPlan } from './track.js';
import { invisiblePath } from './visibility.js';
import type { Instruction } from 'bpf-asm-ts';
import type { StartupTimes } from './timing.js';

/** Compiles the pcap filter into subprograms and a filter fragment (provided by the pcap module). */
export type PcapCompiler = (
  o: { expr: string; tunnelL2: string; tunnelL3: string },
  kernel: ReturnType<typeof kernelLayoutFromBtf>,
  frame: ReturnType<typeof frameFor>,
) => { subprograms: Instruction[]; fragment: (e: Emitter, reject: string) => void } | undefined;

/** The ring buffer: 4 MiB, a power of two as the kernel requires. */
export const RING_BYTES = 4 << 20;

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

function attachableFunctions(log: Logger, ksyms: Ksyms | undefined): Attachable {
  const tracefs = readAvailableFilterFunctions();
  if (tracefs) return tracefs;
  if (!ksyms) throw new PwruError('cannot read available_filter_functions nor /proc/kallsyms: run pwru as root');
  log.warn(
    'Failed to retrieve available ftrace functions (is /sys/kernel/tracing or /sys/kernel/debug/tracing mounted?); using kallsyms text symbols instead',
  );
  return { names: ksyms.textSymbols(), source: 'kallsyms' };
}

/** Discovers targets and generates every program of the run. */
export function prepare(
  opts: PwruOptions,
  session: KernelSession,
  log: Logger,
  pcap: PcapCompiler | undefined,
  cache: KernelBtfCache = new KernelBtfCache(opts.kernelBtf ? { path: opts.kernelBtf } : {}),
  times?: StartupTimes,
): {
  plan: TracePlan;
  btf: Btf;
  ksyms: Ksyms | undefined;
  backend: Backend;
  metadata: SkbMetadata[];
  dumps: SkbDumpPlan | undefined;
  packets?: SkbPacketPlan;
  xdpMetadata: SkbMetadata[];
  returns?: ReturnFormats;
  track?: TrackPlan;
} {
  validate(opts);
  const unprivileged = session.missingPrivileges?.();
  if (unprivileged) throw new PrivilegeError(unprivileged);
  // /proc/kallsyms is parsed at most once per run, however many features need it.
  let kallsyms: Ksyms | undefined;
  const loadKsyms = (): Ksyms => (kallsyms ??= Ksyms.load());
  // Likewise the JITed programs are read from /proc/kcore once (helpers and map functions).
  let jitCalls: string[] | undefined;
  const scanJit = (k: Ksyms): string[] => (jitCalls ??= jitedBpfHelperCalls(k));
  if (opts.filterTrackBpfHelpers) opts = withBpfHelpers(opts, log, scanJit, loadKsyms);
  const bpfProgs = bpfProgTracingOf(opts);
  checkXdpOptions(opts, bpfProgs);
  const btf = loadBtf(opts, cache);
  const mods = moduleBtfs(opts, cache);
  const backend = chooseBackend(
    opts.backend,
    session.features(),
    opts.backend === 'fentry' ? { fentry: session.fentryRefusal?.() } : {},
  );
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
    opts = withBpfMapFunctions(opts, btf, log, jitedMapScan(loadKsyms, scanJit));
  }
  const match = functionMatcher(opts.filterFunc);
  times?.end('probes');

  let ksyms: Ksyms | undefined;
  // Kernel functions (and non-skb functions, also with --trace-only-bpf) are named through kallsyms.
  if ((backend !== 'tracepoint' && (!bpfProgs.only || opts.filterNonSkbFuncs.length > 0)) || opts.outputStack) {
    try {
      ksyms = loadKsyms();
    } catch (e) {
      if (backend !== 'tracepoint') throw new PwruError((e as Error).message);
      log.warn('Failed to read /proc/kallsyms; stack symbols will be shown as addresses', {
        error: (e as Error).message,
      });
    }
  }

  let functions: SkbFunc[] | undefined;
  let signatures: Map<string, FentrySignature> | undefined;
  let tracepoints: SkbTracepoint[] | undefined;
  if (bpfProgs.only) {
    // --trace-only-bpf: no kernel functions nor tracepoints.
    if (backend === 'tracepoint') tracepoints = [];
    else functions = [];
    // Non-skb functions still attach: with fentry each needs its BTF signature.
    if (backend === 'fentry') signatures = new Map();
  } else if (backend === 'tracepoint') {
    tracepoints = discoverSkbTracepoints(btf, match);
    if (tracepoints.length === 0 && !bpfProgs.tc && !bpfProgs.xdp)
      throw new PwruError('Cannot find a matching kernel tracepoint');
  } else {
    const attachable = attachableFunctions(log, ksyms);
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
    if (functions.length === 0 && !bpfProgs.tc && !bpfProgs.xdp)
      throw new PwruError('Cannot find a matching kernel function');
  }

  times?.end('discovery');
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
  const nonSkb = track ? nonSkbFunctions(opts, btf, backend, functions ?? [], signatures, log) : undefined;
  times?.end('layout');
  const fragments: Array<(e: Emitter, reject: string) => void> = [];
  let subprograms: Instruction[] = [];
  if (opts.filterPcap !== '' || opts.filterTunnelPcapL2 !== '' || opts.filterTunnelPcapL3 !== '') {
    if (!pcap) throw new PwruError('pcap filters need the pcap2ebpf eBPF lowering, which this build lacks');
    const compiled = pcap(
      { expr: opts.filterPcap, tunnelL2: opts.filterTunnelPcapL2, tunnelL3: opts.filterTunnelPcapL3 },
      kernel,
      frame,
    );
    if (compiled) {
      fragments.push(compiled.fragment);
      subprograms = compiled.subprograms;
    }
  }
  times?.end('pcap');
  if (opts.filterSkbExpr !== '') fragments.push(filterExprFragment(compileFilterExpr(btf, opts.filterSkbExpr), frame));

  const ct = opts.outputCt ? ctFieldsFromBtf(btf) : undefined;
  for (const m of ct?.missing ?? []) log.warn(`--output-ct: ${m}`);
  const moduleBtf = (name: string): Btf | typeof LOADED_WITHOUT_BTF | undefined => {
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
  const netfilter = opts.outputNetfilter ? netfilterFieldsFromBtf(btf, moduleBtf) : undefined;
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
  });
  let returns: Map<string, ReturnFormat> | undefined;
  if (opts.outputReturn) returns = functions ? returnFormats(btf, mods, functions, signatures) : new Map();
  const filters = { mark: opts.filterMark.mark, mask: opts.filterMark.mask, netns, ifindex };
  let plan = planTrace({
    backend,
    layout,
    kernel,
    filters,
    fragments,
    ...(functions ? { functions } : {}),
    ...(signatures ? { signatures } : {}),
    ...(tracepoints ? { tracepoints } : {}),
    haveFuncIp: backend !== 'tracepoint' && session.haveFuncIp(),
    ...(backend === 'fentry' && session.haveFuncArg?.() ? { haveFuncArg: true } : {}),
    metadata,
    ...(dumps ? { dumps } : {}),
    ...(packets ? { packets } : {}),
    ...(returns ? { returns } : {}),
    ...(trackGen ? { track: trackGen } : {}),
    ...(nonSkb ? { nonSkb } : {}),
    ...(opts.outputBpfmap ? { bpfmap: bpfMapFields(btf) } : {}),
    ...(ct ? { ct } : {}),
    ...(netfilter ? { netfilter } : {}),
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
      layout,
      haveFuncIp: session.haveFuncIp(),
      firstSite: plan.sites.length,
      skbFilters: { ...filters, fragments },
      skbSubprograms: subprograms,
      skbMetadata: metadata,
      ...(dumps ? { skbDumps: dumps } : {}),
      ...(trackGen ? { skbTrack: trackGen } : {}),
      xdpMetadata,
      ...(packets ? { packets } : {}),
    });
    plan = withBpfPrograms(plan, bpf);
    if (returns) {
      const r = planBpfProgReturns(bpf.programs, layout, btf);
      for (const [name, f] of r.formats) returns.set(name, f);
      plan = { ...plan, programs: [...plan.programs, ...r.programs] };
    }
    if (plan.programs.length === 0) throw new PwruError('No kprobe/tc-bpf/xdp to trace!');
  }
  times?.end('generation');
  const unseen = bpfProgs.only ? undefined : invisiblePath(opts, backend, session.features());
  if (unseen) log.info(unseen);
  for (const limit of track?.limits ?? []) log.info(`Skb tracking on this kernel: ${limit}`);
  return {
    plan,
    btf,
    ksyms,
    backend,
    metadata,
    dumps,
    ...(packets ? { packets } : {}),
    xdpMetadata,
    ...(returns ? { returns: new ReturnFormats(returns) } : {}),
    ...(track ? { track } : {}),
  };
}

/** One line for any error: the message, never a stack. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0]!;
  return String(e);
}
