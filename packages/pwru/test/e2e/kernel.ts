import { existsSync } from 'node:fs';
import { loadBtfFile, type Btf } from 'btf-parser';
import { Helper } from 'bpf-asm-ts';
import { probeHelper, probeLinkType, ProgramType } from 'bpf-loader-ts';
import { e2eSkipReason } from './netns.js';

/**
 * What the VM end-to-end suites need to know about the kernel they run on, found by feature
 * probes and the kernel's BTF (never by its version string), so one suite serves 5.10, 6.1 and
 * 6.12 alike.
 */

/** A pwru backend one VM suite runs with on this kernel, or why it cannot. */
export interface BackendRun {
  /** The backend pwru is expected to use (and prints as `via=`). */
  readonly backend: 'kprobe' | 'kprobe-multi' | 'fentry';
  /** How the suite asks for it: `--backend=X`, or nothing when it is the default pwru picks. */
  readonly args: readonly string[];
  /** A title fragment, e.g. `kprobe-multi backend, the default` (the README's table reads it). */
  readonly label: string;
  /** Why it cannot run here, or undefined. */
  readonly skip?: string;
  /** Whether pwru holds BPF links with this backend (per-function kprobes before 5.15 attach by ioctl). */
  readonly links: boolean;
}

let btf: Btf | undefined;
/** The running kernel's BTF (loaded once). */
export function kernelBtf(): Btf {
  btf ??= loadBtfFile('/sys/kernel/btf/vmlinux');
  return btf;
}

/** Why nothing of the VM suites can run here (not in the VM, not root, no BTF, ...), or undefined. */
export function vmSkipReason(): string | undefined {
  if (!process.env.BPF_TS_VM) return 'runs only inside the test VM (tools/vm/test.sh sets BPF_TS_VM)';
  return e2eSkipReason();
}

function unsupported(r: { feature: string; minKernel: string; detail?: string }): string {
  return `this kernel has no ${r.feature} (Linux >= ${r.minKernel}${r.detail ? `; ${r.detail}` : ''})`;
}

/**
 * The backends a pwru scenario suite runs with, each gated on its feature probe:
 * - `kprobe-multi` through pwru's default (no `--backend`): where kprobe-multi links attach, pwru
 *   must pick it by itself;
 * - `kprobe` (per-function kprobes) where kprobe-multi is missing, i.e. where it is the default;
 *   with `everyKprobe` also on kernels that have kprobe-multi;
 * - `fentry` where trampolines attach (unless `fentry: false`: suites whose flags do not depend on
 *   the backend's attach mechanism leave it to the suites that do, to keep each VM run short).
 */
export function backendRuns(o: { everyKprobe?: boolean; fentry?: boolean } = {}): BackendRun[] {
  const vm = vmSkipReason();
  if (vm) {
    return [
      { backend: 'kprobe-multi', args: [], label: 'kprobe-multi backend, the default', skip: vm, links: true },
      { backend: 'kprobe', args: ['--backend=kprobe'], label: 'kprobe backend', skip: vm, links: true },
      { backend: 'fentry', args: ['--backend=fentry'], label: 'fentry backend', skip: vm, links: true },
    ];
  }
  const multi = probeLinkType('kprobe_multi');
  const kprobe = probeLinkType('kprobe');
  const tracing = probeLinkType('tracing');
  const kprobeSkip = !kprobe.supported
    ? unsupported(kprobe)
    : multi.supported && !o.everyKprobe
      ? 'kprobe-multi is the default backend on this kernel and runs this suite; per-function kprobes run it on kernels without kprobe-multi'
      : undefined;
  return [
    {
      backend: 'kprobe-multi',
      args: [],
      label: 'kprobe-multi backend, the default',
      skip: multi.supported ? undefined : unsupported(multi),
      links: true,
    },
    {
      backend: 'kprobe',
      args: ['--backend=kprobe'],
      label: 'kprobe backend',
      skip: kprobeSkip,
      links: kprobe.supported && probeLinkType('perf_event').supported,
    },
    {
      backend: 'fentry',
      args: ['--backend=fentry'],
      label: 'fentry backend',
      skip: !tracing.supported ? unsupported(tracing) : o.fentry === false ? FENTRY_ELSEWHERE : undefined,
      links: true,
    },
  ];
}

/** Why a suite leaves fentry out (VM time under TCG is the budget, see tools/vm/README.md). */
const FENTRY_ELSEWHERE =
  'fentry runs the seed drop, --output-return (fexit) and tc/XDP suites on this kernel; this one runs with the kprobe-family backends to keep the VM run short';

/**
 * Why pwru cannot match return probes with their calls here (`--output-return`,
 * `--output-bpfmap` need `bpf_get_func_ip`, Linux 5.15+), or undefined. pwru itself refuses
 * such runs with a one-line error naming the helper and the version.
 */
export function funcIpMissing(): string | undefined {
  const vm = vmSkipReason();
  if (vm) return vm;
  const r = probeHelper(ProgramType.KPROBE, Helper.get_func_ip);
  return r.supported
    ? undefined
    : `this kernel has no bpf_get_func_ip helper (Linux >= 5.15): ${r.detail ?? 'the verifier refuses it'}`;
}

/** `title`, with ` — skipped: why` appended when `skip` is set (the reason lands in the report). */
export function titled(title: string, skip: string | undefined): string {
  return skip ? `${title} — skipped: ${skip}` : title;
}

/** How a netfilter drop shows on this kernel, from its BTF. */
export interface DropShape {
  /** The function that frees a dropped skb: `sk_skb_reason_drop` (6.11+), `kfree_skb_reason` (5.17+) or `kfree_skb`. */
  readonly func: string;
  /** `(SKB_DROP_REASON_NETFILTER_DROP)` where the kernel has drop reasons, else empty. */
  readonly reason: string;
  /** `func` followed by `reason`, as pwru prints it, escaped for a RegExp. */
  readonly pattern: string;
}

/** The kernel's drop function and reason suffix (kernels before 5.17 free a dropped skb with plain kfree_skb). */
export function dropShape(): DropShape {
  const b = kernelBtf();
  const has = (fn: string): boolean => b.findType(fn, 'func') !== undefined;
  const func = has('sk_skb_reason_drop')
    ? 'sk_skb_reason_drop'
    : has('kfree_skb_reason')
      ? 'kfree_skb_reason'
      : 'kfree_skb';
  const reason = func === 'kfree_skb' ? '' : '(SKB_DROP_REASON_NETFILTER_DROP)';
  return { func, reason, pattern: `${func}${reason.replace(/[()]/g, (c) => `\\${c}`)}` };
}

/** The iptables commands (IPv4, IPv6) of one flavour. */
export interface Iptables {
  readonly v4: string;
  readonly v6: string;
}

let flavour: Iptables | undefined;

/**
 * The iptables flavour that works against this kernel: the nf_tables one where the kernel takes
 * its rules, else the legacy one (this host's iptables-nft 1.8.9 cannot append rules on 5.10's
 * nf_tables). Decided once, by adding and deleting a rule through `nsExec` (a namespace's exec).
 */
export function iptables(nsExec: (argv: string[]) => unknown): Iptables {
  if (flavour) return flavour;
  const candidates: Iptables[] = [
    { v4: 'iptables', v6: 'ip6tables' },
    { v4: 'iptables-legacy', v6: 'ip6tables-legacy' },
  ];
  const errors: string[] = [];
  for (const c of candidates.filter((c) => existsSync(`/usr/sbin/${c.v4}`))) {
    try {
      nsExec([c.v4, '-w', '10', '-A', 'OUTPUT', '-p', 'udp', '--dport', '9', '-j', 'ACCEPT']);
      nsExec([c.v4, '-w', '10', '-D', 'OUTPUT', '-p', 'udp', '--dport', '9', '-j', 'ACCEPT']);
      flavour = c;
      return c;
    } catch (e) {
      errors.push(`${c.v4}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`no iptables flavour can add a rule on this kernel (${errors.join('; ')})`);
}
