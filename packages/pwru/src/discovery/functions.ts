import { readFileSync } from 'node:fs';
import { type Btf, pwruSkbFunctions } from 'btf-parser';

/** Where tracefs lists the functions kprobes may attach to (newest location first, as upstream). */
export const AVAILABLE_FILTER_FUNCTIONS = [
  '/sys/kernel/tracing/available_filter_functions',
  '/sys/kernel/debug/tracing/available_filter_functions',
];

/** The attachable-function list: tracefs when readable. */
export interface Attachable {
  /** `name` for vmlinux, `name [mod]` for modules (tracefs spelling). */
  readonly names: ReadonlySet<string>;
  /** Where the list came from (a tracefs path, or `kallsyms`). */
  readonly source: string;
}

/** Reads available_filter_functions; `undefined` when tracefs is unreadable (then fall back). */
export function readAvailableFilterFunctions(paths = AVAILABLE_FILTER_FUNCTIONS): Attachable | undefined {
  for (const p of paths) {
    let text: string;
    try {
      text = readFileSync(p, 'latin1');
    } catch {
      continue;
    }
    const names = new Set<string>();
    for (const line of text.split('\n')) {
      if (line === '') continue;
      // Newer kernels may append " [mod]" or an address; keep "name" or "name [mod]".
      const m = /^(\S+)(?: (\[[^\]]+\]))?/.exec(line);
      if (m) names.add(m[2] ? `${m[1]} ${m[2]}` : m[1]!);
    }
    return { names, source: p };
  }
  return undefined;
}

/** A kernel function to probe and the position of its `struct sk_buff *` argument. */
export interface SkbFunc {
  /** Bare function name. */
  readonly name: string;
  /** Module name, or undefined for vmlinux. */
  readonly module?: string;
  /** 1-based position of the skb argument (1..5). */
  readonly position: number;
}

/**
 * Upstream's function discovery: BTF functions with a non-const `struct sk_buff *` at positions
 * 1..5, matching `--filter-func`, present in the attachable list.
 */
export function discoverSkbFunctions(
  vmlinux: Btf,
  modules: ReadonlyArray<{ name: string; btf: Btf }>,
  match: (name: string) => boolean,
  attachable: Attachable,
): SkbFunc[] {
  const out: SkbFunc[] = [];
  for (const [name, position] of pwruSkbFunctions(vmlinux)) {
    if (match(name) && attachable.names.has(name)) out.push({ name, position });
  }
  for (const mod of modules) {
    for (const [name, position] of pwruSkbFunctions(mod.btf)) {
      if (
        match(name) &&
        (attachable.names.has(`${name} [${mod.name}]`) || attachable.names.has(`${name}[${mod.name}]`))
      ) {
        out.push({ name, module: mod.name, position });
      }
    }
  }
  return out;
}
