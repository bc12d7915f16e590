import { type LoadedProgramInfo, ProgramType } from 'bpf-loader-ts';

/** Which hook a traced BPF program runs at: tc (sched_cls/sched_act) or XDP. */
export type BpfProgHook = 'tc' | 'xdp';

/** A loaded tc or XDP program pwru will trace with fentry (and fexit for XDP). */
export interface BpfProgTarget {
  /** The program's system-wide id (reopened by id at load time). */
  readonly id: number;
  /** The program's own name (15 characters at most). */
  readonly name: string;
  /** The program's tag (hex), as in its kallsyms name `bpf_prog_<tag>_<entry>`. */
  readonly tag: string;
  readonly hook: BpfProgHook;
  /**
   * The entry function: the BTF func_info record at instruction 0, i.e. the program's main
   * function. (Upstream takes the first symbol it finds, which can be a subprogram: its #404.)
   */
  readonly entry: string;
}

/** A tc/XDP program that cannot be traced, and why. */
export interface SkippedBpfProg {
  readonly id: number;
  readonly name: string;
  readonly hook: BpfProgHook;
  readonly reason: string;
}

/** Programs whose names start with this are pwru's own and are never traced. */
export const PWRU_PROGRAM_PREFIX = 'pwru_';

/** The hook of a program type, if pwru can trace it. */
export function hookOf(type: number): BpfProgHook | undefined {
  if (type === ProgramType.SCHED_CLS || type === ProgramType.SCHED_ACT) return 'tc';
  if (type === ProgramType.XDP) return 'xdp';
  return undefined;
}

/**
 * Picks the programs `--filter-trace-tc` / `--filter-trace-xdp` trace among every loaded program:
 * those of the asked hooks that have BTF (fentry/fexit attach to a BTF function of the target),
 * except pwru's own. Returns the targets (by id) and the programs skipped with the reason.
 */
export function selectBpfProgTargets(
  programs: readonly Pick<LoadedProgramInfo, 'id' | 'type' | 'name' | 'tag' | 'functions'>[],
  want: { readonly tc: boolean; readonly xdp: boolean },
): { targets: BpfProgTarget[]; skipped: SkippedBpfProg[] } {
  const targets: BpfProgTarget[] = [];
  const skipped: SkippedBpfProg[] = [];
  for (const p of [...programs].sort((a, b) => a.id - b.id)) {
    const hook = hookOf(p.type);
    if (!hook || !want[hook] || p.name.startsWith(PWRU_PROGRAM_PREFIX)) continue;
    const entry = p.functions[0];
    if (entry === undefined || entry === '') {
      skipped.push({ id: p.id, name: p.name, hook, reason: 'it has no BTF, so its entry function is unknown' });
      continue;
    }
    targets.push({ id: p.id, name: p.name, tag: p.tag, hook, entry });
  }
  return { targets, skipped };
}

/**
 * The FUNC column name of a traced program, as upstream prints it: the program's kallsyms symbol
 * `bpf_prog_<tag>_<entry>[bpf]` followed by `(tc)` or `(xdp)`.
 */
export function bpfProgSiteName(t: Pick<BpfProgTarget, 'tag' | 'entry' | 'hook'>): string {
  return `bpf_prog_${t.tag}_${t.entry}[bpf](${t.hook})`;
}
