/**
 * `--output-return` in the plan: which functions get a return probe, and the return programs.
 * Code generation is in `generate/return.ts`, printing in `output/retval.ts`.
 */
import type { Btf } from 'btf-parser';
import { bpfProgSiteName } from '../discovery/bpf-progs.js';
import type { Backend } from '../backend.js';
import type { SkbFunc } from '../discovery/functions.js';
import { PwruError } from '../errors.js';
import type { EventLayout } from '../event.js';
import type { KernelLayout } from '../generate/layout.js';
import { MAPS } from '../generate/program.js';
import { generateReturnProgram } from '../generate/return.js';
import { returnFormat, type ReturnFormat } from '../output/retval.js';
import type { PlannedProgram } from './programs.js';

/** `--output-return` is refused with this backend (tracepoints have no return). */
export function checkReturnBackend(backend: Backend): void {
  if (backend === 'tracepoint') {
    throw new PwruError(
      '--output-return needs the kprobe, kprobe-multi or fentry backend: tracepoints have no return value (pick one with --backend)',
    );
  }
}

/** The name the FUNC column prints for a function: `name`, or `name[mod]` for a module's. */
export function columnName(fn: SkbFunc): string {
  return fn.module ? `${fn.name}[${fn.module}]` : fn.name;
}

/** Whether a return format gets a probe: not `void`, and returned in `rax` as one value. */
export function hasReturnValue(f: ReturnFormat | undefined): f is ReturnFormat {
  return f !== undefined && f.kind !== 'void' && f.kind !== 'raw';
}

/**
 * The return format of each traced function, by FUNC-column name, from the BTF that declares it
 * (vmlinux or the function's module). Functions missing from BTF are left out.
 */
export function returnFormats(
  vmlinux: Btf,
  modules: ReadonlyArray<{ name: string; btf: Btf }>,
  functions: readonly SkbFunc[],
  btfIds?: ReadonlyMap<string, { btfId: number }>,
): Map<string, ReturnFormat> {
  const out = new Map<string, ReturnFormat>();
  for (const fn of functions) {
    const btf = fn.module ? modules.find((m) => m.name === fn.module)?.btf : vmlinux;
    if (!btf) continue;
    const id = (!fn.module ? btfIds?.get(fn.name)?.btfId : undefined) ?? btf.findType(fn.name, 'func')?.id;
    if (id === undefined) continue;
    out.set(columnName(fn), returnFormat(btf, id));
  }
  return out;
}

/** What {@link planReturns} needs. */
export interface ReturnPlanInput {
  readonly backend: Backend;
  readonly layout: EventLayout;
  readonly kernel: KernelLayout;
  readonly functions: readonly SkbFunc[];
  /** fentry: each function's BTF id and argument count. */
  readonly signatures?: ReadonlyMap<string, { btfId: number; argCount: number }>;
  /** Return formats by FUNC-column name ({@link returnFormats}). */
  readonly formats: ReadonlyMap<string, ReturnFormat>;
}

/**
 * The return programs of a run: one kretprobe (or kprobe-multi return) program attached to
 * every traced function that returns a value, or one fexit program per such function. `void`
 * functions get none: they have nothing to report, and each probe costs attach time.
 */
export function planReturns(input: ReturnPlanInput): PlannedProgram[] {
  const functions = input.functions.filter((fn) => hasReturnValue(input.formats.get(columnName(fn))));
  if (functions.length === 0) return [];
  checkReturnBackend(input.backend);
  const common = { layout: input.layout, eventsMap: MAPS.events, lostMap: MAPS.lost };
  if (input.backend === 'fentry') {
    const out: PlannedProgram[] = [];
    for (const fn of functions) {
      const sig = input.signatures?.get(fn.name);
      if (!sig) continue;
      out.push({
        name: `pwru_exit_${out.length}`,
        kind: 'fexit',
        insns: generateReturnProgram({
          ...common,
          kind: 'fexit',
          frame: { kind: 'skb', skbArg: fn.position - 1 },
          retval: { kind: 'ctx', argCount: sig.argCount },
        }),
        attach: { type: 'fexit', function: fn, btfId: sig.btfId },
      });
    }
    return out;
  }
  const regs = input.kernel.ptRegs;
  if (!regs) throw new PwruError('--output-return with kprobes needs struct pt_regs in the kernel BTF (x86-64)');
  const kind = input.backend === 'kprobe' ? 'kretprobe' : 'kprobe-multi-return';
  return [
    {
      name: 'pwru_ret',
      kind,
      insns: generateReturnProgram({
        ...common,
        kind,
        frame: { kind: 'sp', sp: regs.sp },
        retval: { kind: 'regs', ax: regs.ax },
      }),
      attach: { type: kind, functions },
    },
  ];
}

/**
 * tc verdicts (`TC_ACT_*` of `include/uapi/linux/pkt_cls.h`: macros, so not in BTF), for the
 * fexit of traced tc programs.
 */
export const TC_ACT_NAMES: ReadonlyMap<number, string> = new Map([
  [-1, 'TC_ACT_UNSPEC'],
  [0, 'TC_ACT_OK'],
  [1, 'TC_ACT_RECLASSIFY'],
  [2, 'TC_ACT_SHOT'],
  [3, 'TC_ACT_PIPE'],
  [4, 'TC_ACT_STOLEN'],
  [5, 'TC_ACT_QUEUED'],
  [6, 'TC_ACT_REPEAT'],
  [7, 'TC_ACT_REDIRECT'],
  [8, 'TC_ACT_TRAP'],
]);

/**
 * How a traced tc or XDP program's return prints: its verdict, `TC_ACT_*` for tc, the kernel's
 * `enum xdp_action` (`XDP_PASS`...) for XDP (the programs' own BTF declares just `int`).
 */
export function bpfProgReturnFormat(hook: 'tc' | 'xdp', vmlinux: Btf): ReturnFormat {
  if (hook === 'tc') return { kind: 'enum', size: 4, signed: true, type: 'TC_ACT', names: TC_ACT_NAMES };
  const e = vmlinux.findType('xdp_action', 'enum');
  const names = new Map<number, string>(e && e.kind === 'enum' ? e.values.map((v) => [v.value, v.name]) : []);
  return { kind: 'enum', size: 4, signed: false, type: 'enum xdp_action', names };
}

/**
 * `--output-return` with `--filter-trace-tc/-xdp`: one fexit program per traced tc/XDP program
 * (next to its fentry tracer), keyed like fentry/fexit by the context pointer (`ctx[0]`, the skb
 * or xdp_buff), reading the verdict after it; and the verdicts' formats by FUNC-column name.
 */
export function planBpfProgReturns(
  programs: readonly PlannedProgram[],
  layout: EventLayout,
  vmlinux: Btf,
): { programs: PlannedProgram[]; formats: Map<string, ReturnFormat> } {
  const out: PlannedProgram[] = [];
  const formats = new Map<string, ReturnFormat>();
  for (const p of programs) {
    const a = p.attach;
    if (a.type !== 'bpf-prog' || a.mode !== 'fentry') continue;
    formats.set(bpfProgSiteName(a.target), bpfProgReturnFormat(a.target.hook, vmlinux));
    out.push({
      name: `pwru_${a.target.hook}x_${out.length}`,
      kind: 'fexit',
      insns: generateReturnProgram({
        kind: 'fexit',
        layout,
        eventsMap: MAPS.events,
        lostMap: MAPS.lost,
        frame: { kind: 'skb', skbArg: 0 },
        retval: { kind: 'ctx', argCount: 1 },
      }),
      attach: { type: 'bpf-prog', target: a.target, mode: 'fexit' },
    });
  }
  return { programs: out, formats };
}
