import type { Instruction } from 'bpf-asm-ts';
import type { Btf } from 'btf-parser';
import { type BpfProgTarget, bpfProgSiteName, selectBpfProgTargets } from '../discovery/bpf-progs.js';
import { PwruError } from '../errors.js';
import type { EventLayout } from '../event.js';
import type { Emitter } from '../generate/emitter.js';
import type { KernelLayout } from '../generate/layout.js';
import { pcapL2Function } from '../generate/pcap.js';
import type { ProgramFilters } from '../generate/program.js';
import { compileFilterExpr, filterExprFragment, XDP_EXPR_ROOT } from '../filter-expr/index.js';
import type { SkbDumpPlan } from '../generate/skb-dump.js';
import type { SkbPacketPlan } from '../generate/skb-packet.js';
import type { TrackGen } from '../generate/tracking-code.js';
import type { SkbMetadata } from '../generate/skb-metadata.js';
import { generateTcProgram } from '../generate/tc.js';
import { generateXdpProgram, type XdpLayout, xdpFrameFor, xdpLayoutFromBtf } from '../generate/xdp.js';
import type { KernelSession } from '../kernel/session.js';
import type { Logger } from '../log.js';
import type { ProbeSite } from '../output/context.js';
import type { PlannedProgram, TracePlan } from './programs.js';
import type { PwruOptions } from '../flags/spec.js';

/** Which BPF programs a run traces, from its options. */
export interface BpfProgTracing {
  readonly tc: boolean;
  readonly xdp: boolean;
  /** `--trace-only-bpf`: no kernel functions or tracepoints at all. */
  readonly only: boolean;
}

/**
 * `--filter-trace-tc`, `--filter-trace-xdp` and `--trace-only-bpf`: with `--trace-only-bpf` and
 * neither of the other two, both tc and XDP programs are traced.
 */
export function bpfProgTracingOf(
  o: Pick<PwruOptions, 'filterTraceTc' | 'filterTraceXdp'> & { traceOnlyBpf?: boolean },
): BpfProgTracing {
  const only = o.traceOnlyBpf === true;
  const neither = !o.filterTraceTc && !o.filterTraceXdp;
  return { tc: o.filterTraceTc || (only && neither), xdp: o.filterTraceXdp || (only && neither), only };
}

/** What {@link planBpfProgs} needs. */
export interface BpfProgPlanInput {
  readonly targets: readonly BpfProgTarget[];
  /** The site index of the first target (after the run's other sites). */
  readonly firstSite: number;
  readonly layout: EventLayout;
  readonly kernel: KernelLayout;
  readonly haveFuncIp: boolean;
  /** tc programs: the skb filters and outputs, with the pcap subprograms their fragments call. */
  readonly tc: {
    readonly filters: ProgramFilters;
    readonly subprograms: readonly Instruction[];
    readonly metadata: readonly SkbMetadata[];
    /** `--output-skb` / `--output-skb-shared-info` dumps. */
    readonly dumps?: SkbDumpPlan;
    /** skb tracking (`--filter-track-skb`, by stack id): tc events take part like any skb event. */
    readonly track?: TrackGen;
  };
  /** `--output-pcapng`: tc and XDP events carry the packet bytes too. */
  readonly packets?: SkbPacketPlan;
  /** XDP programs (required when a target is one): netns/ifindex, the L2 pcap function, `--filter-xdp-expr`, `--output-xdp-metadata`. */
  readonly xdp?: {
    readonly layout: XdpLayout;
    readonly netns: number;
    readonly ifindex: number;
    readonly pcap?: { readonly name: string; readonly insns: readonly Instruction[] };
    readonly fragments: ReadonlyArray<(e: Emitter, reject: string) => void>;
    readonly metadata: readonly SkbMetadata[];
    /** `--filter-track-skb`: link XDP buffers and skbs (see `generateXdpProgram`). */
    readonly linkSkbHeads?: boolean;
  };
  /** `--output-return`: the tracers store their events for fexit programs (see `return-probes.ts`). */
  readonly recordReturn?: boolean;
}

/**
 * One fentry program per traced tc/XDP program, each with its own site named as upstream prints
 * it (`bpf_prog_<tag>_<entry>[bpf](tc)`).
 */
export function planBpfProgs(input: BpfProgPlanInput): { programs: PlannedProgram[]; sites: ProbeSite[] } {
  const programs: PlannedProgram[] = [];
  const sites: ProbeSite[] = [];
  input.targets.forEach((target, i) => {
    const site = input.firstSite + i;
    sites.push({ name: bpfProgSiteName(target) });
    let insns: Instruction[];
    if (target.hook === 'tc') {
      insns = generateTcProgram({
        layout: input.layout,
        kernel: input.kernel,
        site,
        filters: input.tc.filters,
        haveFuncIp: input.haveFuncIp,
        metadata: input.tc.metadata,
        ...(input.tc.dumps ? { dumps: input.tc.dumps } : {}),
        ...(input.recordReturn ? { recordReturn: true } : {}),
        ...(input.tc.track ? { track: input.tc.track } : {}),
        ...(input.packets ? { packets: input.packets } : {}),
      });
      insns.push(...input.tc.subprograms);
    } else {
      if (!input.xdp) throw new RangeError(`XDP program ${target.name} (id ${target.id}) to trace, but no XDP options`);
      insns = generateXdpProgram({
        layout: input.layout,
        kernel: input.kernel,
        xdp: input.xdp.layout,
        site,
        netns: input.xdp.netns,
        ifindex: input.xdp.ifindex,
        ...(input.xdp.pcap ? { pcap: input.xdp.pcap.name } : {}),
        fragments: input.xdp.fragments,
        haveFuncIp: input.haveFuncIp,
        metadata: input.xdp.metadata,
        ...(input.xdp.linkSkbHeads ? { linkSkbHeads: true } : {}),
        ...(input.recordReturn ? { recordReturn: true } : {}),
        ...(input.packets ? { packets: input.packets } : {}),
      });
      if (input.xdp.pcap) insns.push(...input.xdp.pcap.insns);
    }
    programs.push({
      name: `pwru_${target.hook}_${i}`,
      kind: 'fentry',
      insns,
      attach: { type: 'bpf-prog', target, mode: 'fentry' },
    });
  });
  return { programs, sites };
}

/**
 * The plan with the BPF-program tracers added (attached after the kernel functions, without a
 * progress bar, as upstream: `targets` still counts the kernel targets only).
 */
export function withBpfPrograms(plan: TracePlan, extra: { programs: PlannedProgram[]; sites: ProbeSite[] }): TracePlan {
  return { ...plan, sites: [...plan.sites, ...extra.sites], programs: [...plan.programs, ...extra.programs] };
}

/** The parts of a run {@link prepareBpfProgs} builds on. */
export interface BpfProgContext {
  readonly opts: PwruOptions;
  readonly tracing: BpfProgTracing;
  readonly session: KernelSession;
  readonly log: Logger;
  readonly btf: Btf;
  readonly kernel: KernelLayout;
  readonly layout: EventLayout;
  readonly haveFuncIp: boolean;
  readonly firstSite: number;
  /** The skb programs' filters (with their fragments) and pcap subprograms: tc programs share them. */
  readonly skbFilters: ProgramFilters;
  readonly skbSubprograms: readonly Instruction[];
  readonly skbMetadata: readonly SkbMetadata[];
  /** The skb dumps (`--output-skb`, `--output-skb-shared-info`), tc programs make them too. */
  readonly skbDumps?: SkbDumpPlan;
  /** skb tracking, which tc events take part in. */
  readonly skbTrack?: TrackGen;
  /** Compiled `--output-xdp-metadata`. */
  readonly xdpMetadata: readonly SkbMetadata[];
  /** `--output-pcapng`: the packet copy, made by tc and XDP events too. */
  readonly packets?: SkbPacketPlan;
}

/** The flags that asked for BPF-program tracing, for messages. */
function askedBy(t: BpfProgTracing, o: Pick<PwruOptions, 'filterTraceTc' | 'filterTraceXdp'>): string {
  if (o.filterTraceTc && o.filterTraceXdp) return '--filter-trace-tc and --filter-trace-xdp need';
  if (o.filterTraceTc) return '--filter-trace-tc needs';
  if (o.filterTraceXdp) return '--filter-trace-xdp needs';
  return t.only ? '--trace-only-bpf needs' : 'tracing BPF programs needs';
}

/** `--filter-xdp-expr` / `--output-xdp-metadata` without XDP tracing would silently do nothing. */
export function checkXdpOptions(o: Pick<PwruOptions, 'filterXdpExpr' | 'outputXdpMetadata'>, t: BpfProgTracing): void {
  if (t.xdp) return;
  if (o.filterXdpExpr !== '') throw new PwruError('--filter-xdp-expr needs --filter-trace-xdp (or --trace-only-bpf)');
  if (o.outputXdpMetadata.length > 0)
    throw new PwruError('--output-xdp-metadata needs --filter-trace-xdp (or --trace-only-bpf)');
}

/**
 * Everything `--filter-trace-tc` / `--filter-trace-xdp` / `--trace-only-bpf` add to a run: checks
 * that the kernel allows fentry (one line naming the refusal if not), finds the loaded tc/XDP
 * programs with BTF (logging the ones skipped, as upstream), and plans one fentry program each.
 */
export function prepareBpfProgs(c: BpfProgContext): { programs: PlannedProgram[]; sites: ProbeSite[] } {
  const { opts, tracing, session, log } = c;
  const refusal = session.fentryRefusal
    ? session.fentryRefusal()
    : session.features().fentry
      ? undefined
      : 'fentry programs do not load';
  if (refusal !== undefined)
    throw new MissingBpfProgTracingError(
      `${askedBy(tracing, opts)} fentry (BPF trampolines), which this kernel refuses: ${refusal}`,
    );
  if (!session.bpfPrograms) throw new PwruError(`${askedBy(tracing, opts)} a kernel session that lists BPF programs`);
  const { targets, skipped } = selectBpfProgTargets(session.bpfPrograms(), tracing);
  for (const s of skipped)
    log.info('Skip tracing bpf prog because cannot find its entry function name', {
      id: s.id,
      name: s.name,
      reason: s.reason,
    });
  if (tracing.tc && !targets.some((t) => t.hook === 'tc'))
    log.info('No bpf progs found with type', { type: 'SchedCLS' });
  if (tracing.xdp && !targets.some((t) => t.hook === 'xdp')) log.info('No bpf progs found with type', { type: 'XDP' });
  if (targets.length === 0) return { programs: [], sites: [] };

  let xdp: BpfProgPlanInput['xdp'] | undefined;
  if (targets.some((t) => t.hook === 'xdp')) {
    const layout = xdpLayoutFromBtf(c.btf);
    const frame = xdpFrameFor(layout);
    const name = 'pwru_xdp_pcap_l2';
    xdp = {
      layout,
      netns: c.skbFilters.netns,
      ifindex: c.skbFilters.ifindex,
      ...(opts.filterPcap !== '' ? { pcap: { name, insns: pcapL2Function(opts.filterPcap, name, frame.size) } } : {}),
      fragments:
        opts.filterXdpExpr !== ''
          ? [filterExprFragment(compileFilterExpr(c.btf, opts.filterXdpExpr, XDP_EXPR_ROOT), frame)]
          : [],
      metadata: c.xdpMetadata,
      ...(c.skbTrack?.skb && c.skbTrack.xdpHeads ? { linkSkbHeads: true } : {}),
    };
  }
  return planBpfProgs({
    targets,
    firstSite: c.firstSite,
    layout: c.layout,
    kernel: c.kernel,
    haveFuncIp: c.haveFuncIp,
    tc: {
      filters: c.skbFilters,
      subprograms: c.skbSubprograms,
      metadata: c.skbMetadata,
      ...(c.skbDumps ? { dumps: c.skbDumps } : {}),
      ...(c.skbTrack ? { track: c.skbTrack } : {}),
    },
    ...(xdp ? { xdp } : {}),
    ...(opts.outputReturn ? { recordReturn: true } : {}),
    ...(c.packets ? { packets: c.packets } : {}),
  });
}

/** The kernel cannot trace BPF programs (no fentry on this kernel, or it refuses them). */
export class MissingBpfProgTracingError extends PwruError {
  override name = 'MissingBpfProgTracingError';
}
