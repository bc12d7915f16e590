import type { Instruction } from 'bpf-asm-ts';
import type { Backend } from '../backend.js';
import type { BpfProgTarget } from '../discovery/bpf-progs.js';
import type { SkbFunc } from '../discovery/functions.js';
import type { SkbTracepoint } from '../discovery/tracepoints.js';
import type { EventLayout } from '../event.js';
import type { Emitter } from '../generate/emitter.js';
import type { KernelLayout } from '../generate/layout.js';
import { type BpfMapFields, type BpfMapOp, bpfMapOp } from '../generate/bpfmap.js';
import {
  generateProgram,
  MAPS,
  SITE_FROM_COOKIE,
  SKB_ARG_FROM_COOKIE,
  type ProbeKind,
  type ProgramFilters,
} from '../generate/program.js';
import { groupTracepoints } from './tracepoint-groups.js';
import { dropReasonArg, type ProbeSite } from '../output/context.js';
import type { SkbMetadata } from '../generate/skb-metadata.js';
import type { SkbDumpPlan } from '../generate/skb-dump.js';
import type { SkbPacketPlan } from '../generate/skb-packet.js';
import {
  type FrameSource,
  generateReturnProgram,
  type ReturnKind,
  type ReturnProgramOptions,
} from '../generate/return.js';
import type { ReturnFormat } from '../output/retval.js';
import { planReturns } from './return-probes.js';
import type { TrackGen } from '../generate/tracking-code.js';
import type { CtFields } from '../ct/fields.js';
import type { NetfilterFields, NfFunc } from '../netfilter/fields.js';
import { planNetfilter } from '../netfilter/plan.js';

/** Where a loaded program gets attached. */
export type AttachTarget =
  | { readonly type: 'tracepoint'; readonly name: string; readonly btfId: number }
  /** One raw tracepoint program on several tracepoints, each link's cookie its site index (6.10+). */
  | { readonly type: 'raw-tracepoints'; readonly tracepoints: ReadonlyArray<{ name: string; cookie: number }> }
  | { readonly type: 'kprobe'; readonly functions: readonly SkbFunc[] }
  | { readonly type: 'kprobe-multi'; readonly functions: readonly SkbFunc[] }
  | { readonly type: 'fentry'; readonly function: SkbFunc; readonly btfId: number }
  /** fentry/fexit on the entry function of a loaded tc or XDP program (`--filter-trace-tc/-xdp`). */
  | { readonly type: 'bpf-prog'; readonly target: BpfProgTarget; readonly mode: 'fentry' | 'fexit' }
  // --output-return:
  | { readonly type: 'kretprobe'; readonly functions: readonly SkbFunc[] }
  | { readonly type: 'kprobe-multi-return'; readonly functions: readonly SkbFunc[] }
  | { readonly type: 'fexit'; readonly function: SkbFunc; readonly btfId: number };

/** One program to load and where it goes. */
export interface PlannedProgram {
  /** Program name (bpftool shows it; at most 15 characters). */
  readonly name: string;
  readonly kind: ProbeKind | ReturnKind;
  readonly insns: Instruction[];
  readonly attach: AttachTarget;
  /** Runs no filter (`--filter-non-skb-funcs`): filter subprograms must not be appended. */
  readonly unfiltered?: boolean;
}

/** Everything to load and attach for one run. */
export interface TracePlan {
  readonly backend: Backend;
  readonly layout: EventLayout;
  readonly sites: readonly ProbeSite[];
  readonly programs: readonly PlannedProgram[];
  /** Attachments the progress bar counts (functions or tracepoints). */
  readonly targets: number;
}

/** What {@link planTrace} needs. */
export interface PlanInput {
  readonly backend: Backend;
  readonly layout: EventLayout;
  readonly kernel: KernelLayout;
  readonly filters: Omit<ProgramFilters, 'fragments'>;
  /** Filter fragments (pcap, skb expression) in the order they run. */
  readonly fragments: ReadonlyArray<(e: Emitter, reject: string) => void>;
  /** kprobe, kprobe-multi and fentry: the functions to trace. */
  readonly functions?: readonly SkbFunc[];
  /** fentry: BTF id, argument count and context-readable arguments of each function. */
  readonly signatures?: ReadonlyMap<string, { btfId: number; argCount: number; ctxReadable?: readonly boolean[] }>;
  /** tracepoint: the tracepoints to trace. */
  readonly tracepoints?: readonly SkbTracepoint[];
  /** tracepoint: raw tracepoint links take BPF cookies (6.10+), so tracepoints can share a program. */
  readonly rawTpCookies?: boolean;
  readonly haveFuncIp: boolean;
  /** Whether the kernel has `bpf_get_func_arg` (fentry reads arguments of any type with it). */
  readonly haveFuncArg?: boolean;
  /** `--output-skb-metadata` expressions. */
  readonly metadata?: readonly SkbMetadata[];
  /** `--output-skb` / `--output-skb-shared-info` dumps. */
  readonly dumps?: SkbDumpPlan;
  /** `--output-pcapng`: the in-kernel packet copy. */
  readonly packets?: SkbPacketPlan;
  /**
   * `--output-return`: return formats by FUNC-column name; functions returning a value also get
   * a return program (see `return-probes.ts`).
   */
  readonly returns?: ReadonlyMap<string, ReturnFormat>;
  /** skb tracking in every program (see `skb-tracking.ts`). */
  readonly track?: TrackGen;
  /**
   * `--filter-non-skb-funcs` (kprobe, kprobe-multi and fentry backends; fentry needs their
   * `signatures`): programs that report the skb their kernel stack carries.
   */
  readonly nonSkb?: readonly SkbFunc[];
  /**
   * `--output-bpfmap`: the `struct bpf_map` offsets. Non-skb functions that are bpf map functions
   * ({@link bpfMapOp}) get their own programs recording the map, key and value (see `bpfmap.ts`).
   */
  readonly bpfmap?: BpfMapFields;
  /** `--output-ct`: the conntrack offsets. */
  readonly ct?: CtFields;
  /** `--output-netfilter`: the table walkers and offsets; each gets a kprobe, all one kretprobe. */
  readonly netfilter?: NetfilterFields;
}

/**
 * Generates the programs of a run: one per skb position for the kprobe backends (as upstream),
 * one per tracepoint (each tp_btf program is bound to its tracepoint's BTF id at load) or, with
 * raw tracepoint cookies, one raw_tp program per tracepoint group (see `tracepoint-groups.ts`), one per
 * function for fentry.
 */
export function planTrace(input: PlanInput): TracePlan {
  const gen = (kind: ProbeKind, skbArg: number, site: number, extra: GenExtra = {}): Instruction[] =>
    generateProgram({
      layout: input.layout,
      kernel: input.kernel,
      shape: { kind, skbArg, site, ...extra },
      filters: { ...input.filters, fragments: input.fragments },
      haveFuncIp: input.haveFuncIp,
      ...(input.haveFuncArg ? { haveFuncArg: true } : {}),
      ...(input.metadata ? { metadata: input.metadata } : {}),
      ...(input.dumps ? { dumps: input.dumps } : {}),
      ...(input.packets && extra.source !== 'stack' ? { packets: input.packets } : {}),
      ...(input.returns && extra.source !== 'stack' ? { recordReturn: true } : {}),
      ...(input.track ? { track: input.track } : {}),
      ...(input.bpfmap && extra.bpfmap ? { bpfmap: input.bpfmap } : {}),
      ...(input.ct ? { ct: input.ct } : {}),
      ...(input.netfilter && extra.netfilter ? { netfilter: input.netfilter } : {}),
    });
  const programs: PlannedProgram[] = [];
  const sites: ProbeSite[] = [];
  let targets = 0;
  switch (input.backend) {
    case 'tracepoint': {
      if (input.rawTpCookies) {
        for (const tp of input.tracepoints ?? [])
          sites.push(tp.reasonArg !== undefined ? { name: tp.name, reason: 'p2' } : { name: tp.name });
        for (const [i, g] of groupTracepoints(input.tracepoints ?? []).entries()) {
          programs.push({
            name: `pwru_raw_tp_${i}`,
            kind: 'tracepoint',
            insns: gen(
              'tracepoint',
              g.skbArg,
              SITE_FROM_COOKIE,
              g.reasonArg !== undefined ? { reasonArg: g.reasonArg } : {},
            ),
            attach: {
              type: 'raw-tracepoints',
              tracepoints: g.members.map((m) => ({ name: m.tracepoint.name, cookie: m.site })),
            },
          });
        }
        targets = sites.length;
        break;
      }
      for (const tp of input.tracepoints ?? []) {
        const site = sites.length;
        sites.push(tp.reasonArg !== undefined ? { name: tp.name, reason: 'p2' } : { name: tp.name });
        programs.push({
          name: `pwru_tp_${site}`,
          kind: 'tracepoint',
          insns: gen('tracepoint', tp.skbArg, site, tp.reasonArg !== undefined ? { reasonArg: tp.reasonArg } : {}),
          attach: { type: 'tracepoint', name: tp.name, btfId: tp.btfId },
        });
      }
      targets = programs.length;
      break;
    }
    case 'kprobe-multi': {
      // One program and one link: each function's skb position travels in its BPF cookie.
      sites.push({});
      const functions = input.functions ?? [];
      if (functions.length > 0) {
        programs.push({
          name: 'pwru_skb_multi',
          kind: 'kprobe-multi',
          insns: gen('kprobe-multi', SKB_ARG_FROM_COOKIE, 0),
          attach: { type: 'kprobe-multi', functions },
        });
      }
      targets = functions.length;
      break;
    }
    case 'kprobe': {
      sites.push({});
      const byPos = new Map<number, SkbFunc[]>();
      for (const fn of input.functions ?? []) {
        const list = byPos.get(fn.position) ?? [];
        list.push(fn);
        byPos.set(fn.position, list);
      }
      for (const [pos, functions] of [...byPos].sort((a, b) => a[0] - b[0])) {
        programs.push({
          name: `pwru_skb_${pos}`,
          kind: input.backend,
          insns: gen('kprobe', pos - 1, 0),
          attach: { type: 'kprobe', functions },
        });
      }
      targets = input.functions?.length ?? 0;
      break;
    }
    case 'fentry': {
      // Without bpf_get_func_ip (before 5.15) an fentry event carries no function address: each
      // program then writes a site of its own that names its function.
      const named = !input.haveFuncIp;
      if (!named) sites.push({});
      for (const fn of input.functions ?? []) {
        const sig = input.signatures?.get(fn.name);
        if (!sig) continue;
        const reason = dropReasonArg(fn.name);
        const site = named ? sites.push({ name: fn.name, ...(reason ? { reason } : {}) }) - 1 : 0;
        programs.push({
          name: `pwru_fe_${programs.length}`,
          kind: 'fentry',
          insns: gen('fentry', fn.position - 1, site, {
            argCount: sig.argCount,
            ...(sig.ctxReadable ? { ctxReadable: sig.ctxReadable } : {}),
          }),
          attach: { type: 'fentry', function: fn, btfId: sig.btfId },
        });
      }
      targets = programs.length;
      break;
    }
  }
  if (input.returns) {
    const functions = input.functions ?? [];
    const returns = planReturns({
      backend: input.backend,
      layout: input.layout,
      kernel: input.kernel,
      functions,
      formats: input.returns,
      ...(input.signatures ? { signatures: input.signatures } : {}),
    });
    programs.push(...returns);
    for (const r of returns) targets += 'functions' in r.attach ? r.attach.functions.length : 1;
  }
  if (input.netfilter) {
    // A site of their own, named by address: fentry without bpf_get_func_ip names its sites.
    const site = sites.push({}) - 1;
    const nf = planNetfilter({
      backend: input.backend,
      layout: input.layout,
      kernel: input.kernel,
      fields: input.netfilter,
      events: MAPS.events,
      lost: MAPS.lost,
      entry: (fn) => gen('kprobe', fn.skb.arg, site, { netfilter: fn }),
    });
    programs.push(...nf);
    targets += 2 * input.netfilter.funcs.length;
  }
  if (input.nonSkb && input.nonSkb.length > 0) {
    const added = planNonSkb(input, gen, programs.length);
    programs.push(...added.programs);
    targets += added.targets;
  }
  return { backend: input.backend, layout: input.layout, sites, programs, targets };
}

/** Per-program extras of the shape {@link planTrace} generates. */
type GenExtra = {
  reasonArg?: number;
  argCount?: number;
  ctxReadable?: readonly boolean[];
  source?: 'stack';
  bpfmap?: BpfMapOp;
  netfilter?: NfFunc;
};
type Gen = (kind: ProbeKind, skbArg: number, site: number, extra: GenExtra) => Instruction[];

/**
 * The `--filter-non-skb-funcs` programs: one kprobe program for all of them (plain kprobes with
 * kprobe-multi too, as upstream: attached by name, module functions included), or one fentry
 * program each. With `--output-bpfmap`, bpf map functions get programs of their own per
 * operation, and lookups a return program (kretprobe or fexit) that adds the value.
 */
function planNonSkb(input: PlanInput, gen: Gen, first: number): { programs: PlannedProgram[]; targets: number } {
  const programs: PlannedProgram[] = [];
  let targets = 0;
  const groups = new Map<BpfMapOp | undefined, SkbFunc[]>();
  for (const fn of input.nonSkb ?? []) {
    const op = input.bpfmap && input.layout.bpfmap >= 0 ? bpfMapOp(fn.name) : undefined;
    groups.set(op, [...(groups.get(op) ?? []), fn]);
  }
  for (const [op, functions] of groups) {
    if (input.backend === 'fentry') {
      for (const fn of functions) {
        const sig = input.signatures?.get(fn.name);
        if (!sig) continue;
        programs.push({
          name: op ? `pwru_map${op[0]}_${first + programs.length}` : `pwru_ns_${first + programs.length}`,
          kind: 'fentry',
          insns: gen('fentry', 0, 0, {
            argCount: sig.argCount,
            ...(sig.ctxReadable ? { ctxReadable: sig.ctxReadable } : {}),
            source: 'stack',
            ...(op ? { bpfmap: op } : {}),
          }),
          attach: { type: 'fentry', function: fn, btfId: sig.btfId },
          unfiltered: true,
        });
        targets++;
        if (op === 'lookup') {
          programs.push({
            name: `pwru_mapx_${first + programs.length}`,
            kind: 'fexit',
            insns: bpfmapReturn(input, 'fexit', { kind: 'arg', arg: 0 }, { kind: 'ctx', argCount: sig.argCount }),
            attach: { type: 'fexit', function: fn, btfId: sig.btfId },
          });
          targets++;
        }
      }
    } else if (input.backend !== 'tracepoint') {
      programs.push({
        name: op ? `pwru_map_${op}`.slice(0, 15) : 'pwru_nonskb',
        kind: 'kprobe',
        insns: gen('kprobe', 0, 0, { source: 'stack', ...(op ? { bpfmap: op } : {}) }),
        attach: { type: 'kprobe', functions },
        unfiltered: true,
      });
      targets += functions.length;
      if (op === 'lookup') {
        const regs = input.kernel.ptRegs;
        if (!regs) throw new RangeError('kprobe programs need struct pt_regs offsets');
        programs.push({
          name: 'pwru_map_ret',
          kind: 'kretprobe',
          insns: bpfmapReturn(input, 'kretprobe', { kind: 'sp', sp: regs.sp }, { kind: 'regs', ax: regs.ax }),
          attach: { type: 'kretprobe', functions },
        });
        targets += functions.length;
      }
    }
  }
  return { programs, targets };
}

function bpfmapReturn(
  input: PlanInput,
  kind: ReturnKind,
  frame: FrameSource,
  retval: ReturnProgramOptions['retval'],
): Instruction[] {
  return generateReturnProgram({
    kind,
    layout: input.layout,
    frame,
    retval,
    eventsMap: MAPS.events,
    lostMap: MAPS.lost,
    bpfmapLookup: input.layout.bpfmap,
  });
}
