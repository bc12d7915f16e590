import type { Backend } from '../backend.js';
import { PwruError } from '../errors.js';
import type { EventLayout } from '../event.js';
import type { KernelLayout } from '../generate/layout.js';
import type { PlannedProgram } from '../plan/programs.js';
import { generateNetfilterReturn } from './emit.js';
import type { NetfilterFields, NfFunc } from './fields.js';

/** `--output-netfilter` is refused with this backend: a verdict needs a return probe. */
export function checkNetfilterBackend(backend: Backend): void {
  if (backend === 'tracepoint') {
    throw new PwruError(
      '--output-netfilter needs kprobes (the kprobe, kprobe-multi or fentry backend): the tracepoint backend cannot see ipt_do_table/nft_do_chain or their verdicts',
    );
  }
}

/**
 * The programs of `--output-netfilter`: one kprobe per table walker (its skb is an argument, or
 * `pkt->skb` for nftables), and one kretprobe on all of them that submits the parked events with
 * their verdicts. Plain kprobes on every backend: few functions, and kretprobes work without
 * `bpf_get_func_ip` (5.10).
 */
export function planNetfilter(input: {
  readonly backend: Backend;
  readonly layout: EventLayout;
  readonly kernel: KernelLayout;
  readonly fields: NetfilterFields;
  readonly events: string;
  readonly lost: string;
  /** The entry program of one walker (the pwru program with its filters and event sections). */
  readonly entry: (fn: NfFunc) => PlannedProgram['insns'];
}): PlannedProgram[] {
  checkNetfilterBackend(input.backend);
  const regs = input.kernel.ptRegs;
  if (!regs) throw new PwruError('--output-netfilter needs struct pt_regs in the kernel BTF (x86-64)');
  const out: PlannedProgram[] = [];
  const functions = input.fields.funcs.map((fn) => ({
    name: fn.name,
    ...(fn.module ? { module: fn.module } : {}),
    position: fn.skb.arg + 1,
  }));
  input.fields.funcs.forEach((fn, i) => {
    out.push({
      name: `pwru_nf_${i}`,
      kind: 'kprobe',
      insns: input.entry(fn),
      attach: { type: 'kprobe', functions: [functions[i]!] },
    });
  });
  out.push({
    name: 'pwru_nf_ret',
    kind: 'kretprobe',
    insns: generateNetfilterReturn({
      layout: input.layout,
      regs: { sp: regs.sp, ax: regs.ax },
      eventsMap: input.events,
      lostMap: input.lost,
    }),
    attach: { type: 'kretprobe', functions },
  });
  return out;
}
