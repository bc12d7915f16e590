/**
 * `--output-bpfmap` in the plan: which non-skb functions are bpf map functions, what the flag
 * traces when none is named, and where it cannot run. Code generation is in
 * `generate/bpfmap.ts`, printing in `output/bpfmap.ts`.
 */
import { type Btf, funcSignature, typeName } from 'btf-parser';
import type { Backend, KernelFeatures } from './backend.js';
import { MissingKernelFeatureError } from './errors.js';
import type { PwruOptions } from './flags/spec.js';
import { bpfMapOp } from './generate/bpfmap.js';
import type { Ksyms } from './ksyms.js';
import type { Logger } from './log.js';

/** The generic map helpers (`kernel/bpf/helpers.c`), traced when no bpf map function is named. */
export const GENERIC_MAP_HELPERS = ['bpf_map_delete_elem', 'bpf_map_lookup_elem', 'bpf_map_update_elem'] as const;

/**
 * Whether `fn` is a bpf map function `--output-bpfmap` reports: named `*update_elem`,
 * `*lookup_elem` or `*delete_elem`, with a first parameter `struct bpf_map *` — or, for the
 * `BPF_CALL_x` helpers, a `u64` parameter whose name ends in `map` (as upstream). Functions the
 * BTF does not describe are judged by name.
 */
export function isBpfMapFunction(btf: Btf, fn: string): boolean {
  if (!bpfMapOp(fn)) return false;
  const t = btf.findType(fn, 'func');
  if (!t) return true;
  const first = funcSignature(btf, t.id).params[0];
  if (!first) return false;
  const type = typeName(btf, first.type);
  return (
    type === 'struct bpf_map *' || (first.name.endsWith('map') && (type === 'u64' || type === 'long long unsigned int'))
  );
}

/**
 * `--output-bpfmap` fails on the tracepoint backend: the map functions are plain kernel
 * functions, reached only by kprobes or fentry.
 */
export function checkBpfmapBackend(backend: Backend, features: KernelFeatures): void {
  if (backend !== 'tracepoint') return;
  throw new MissingKernelFeatureError(
    '--output-bpfmap',
    features.kprobes || features.fentry
      ? 'it probes bpf map functions, which the tracepoint backend cannot; use --backend=kprobe or --backend=fentry'
      : 'it probes bpf map functions with kprobes or fentry, and this kernel has neither (CONFIG_KPROBES off, BPF trampolines refused)',
  );
}

/**
 * The options with the bpf map functions to trace when `--output-bpfmap` is on and no
 * `--filter-non-skb-funcs` (or `--filter-track-bpf-helpers`) function is one: the generic
 * helpers, and on amd64 the map functions the loaded JITed programs call directly (the verifier
 * rewrites helper calls into calls of the map's own functions, such as `htab_map_update_elem`),
 * found as `--filter-track-bpf-helpers` finds helpers. A failing scan leaves the generic helpers.
 */
export function withBpfMapFunctions(opts: PwruOptions, btf: Btf, log: Logger, scan?: () => string[]): PwruOptions {
  if (!opts.outputBpfmap || opts.filterNonSkbFuncs.some((fn) => isBpfMapFunction(btf, fn))) return opts;
  const found: string[] = [...GENERIC_MAP_HELPERS];
  if (scan) {
    try {
      found.push(...scan().filter((fn) => !fn.includes('[') && isBpfMapFunction(btf, fn)));
    } catch (e) {
      log.warn('--output-bpfmap: cannot read the JITed BPF programs; tracing the generic map helpers only', {
        error: (e as Error).message,
      });
    }
  }
  log.info('--output-bpfmap traces bpf map functions', { functions: found.join(',') });
  return { ...opts, filterNonSkbFuncs: [...new Set([...opts.filterNonSkbFuncs, ...found])] };
}

/** The default scan of {@link withBpfMapFunctions}: amd64 only, from `/proc/kcore`. */
export function jitedMapScan(ksyms: () => Ksyms, scan: (k: Ksyms) => string[]): (() => string[]) | undefined {
  return process.arch === 'x64' ? () => scan(ksyms()) : undefined;
}
