import type { Addr64 } from '../event.js';
import type { Ksyms } from '../ksyms.js';
import { directCallTargets } from './x86-calls.js';

/** A piece of kernel code: a symbol and where it ends (the next symbol), if known. */
export interface CodeSymbol {
  readonly name: string;
  readonly start: bigint;
  readonly end?: bigint;
}

/** Bytes read from a program image when its end is unknown or farther (upstream's default). */
export const MAX_BPF_IMAGE = 100_000;

const big = (a: Addr64): bigint => (BigInt(a.hi) << 32n) | BigInt(a.lo);

/** The JITed BPF images in kallsyms: every `[bpf]` symbol (programs, subprograms, dispatchers). */
export function jitedBpfSymbols(ksyms: Pick<Ksyms, 'symbolsWhere'>): CodeSymbol[] {
  return ksyms
    .symbolsWhere((n) => n.endsWith('[bpf]'))
    .map((s) => (s.end ? { name: s.name, start: big(s.addr), end: big(s.end) } : { name: s.name, start: big(s.addr) }));
}

/**
 * The kernel functions the JITed BPF programs call directly (`call rel32`), by kallsyms name,
 * sorted and without repeats: what `--filter-track-bpf-helpers` traces (helpers such as
 * `bpf_skb_load_bytes`, and the map functions the JIT calls). Calls to other BPF code (`[bpf]`)
 * are left out; images that cannot be read are skipped.
 */
export function bpfHelperCalls(o: {
  programs: readonly CodeSymbol[];
  /** Kernel memory at `addr` (e.g. through /proc/kcore); undefined when unreadable. */
  read(addr: bigint, len: number): Uint8Array | undefined;
  /** The symbol starting exactly at `addr`. */
  nameAt(addr: bigint): string | undefined;
}): string[] {
  const names = new Set<string>();
  for (const p of o.programs) {
    const len =
      p.end !== undefined && p.end > p.start && p.end - p.start < BigInt(MAX_BPF_IMAGE)
        ? Number(p.end - p.start)
        : MAX_BPF_IMAGE;
    const code = o.read(p.start, len);
    if (!code) continue;
    for (const target of directCallTargets(code, p.start)) {
      const name = o.nameAt(target);
      if (name !== undefined && !name.endsWith('[bpf]')) names.add(name);
    }
  }
  return [...names].sort();
}
