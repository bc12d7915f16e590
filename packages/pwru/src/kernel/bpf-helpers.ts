import { bpfHelperCalls, jitedBpfSymbols } from '../discovery/bpf-helpers.js';
import { PwruError } from '../errors.js';
import type { PwruOptions } from '../flags/spec.js';
import { Ksyms } from '../ksyms.js';
import type { Logger } from '../log.js';
import { Kcore, KcoreError } from './kcore.js';

/**
 * The kernel functions every JITed BPF program on the system calls directly, read from
 * `/proc/kcore` and decoded as x86-64 (`--filter-track-bpf-helpers`; amd64 only, as upstream).
 */
export function jitedBpfHelperCalls(ksyms: Ksyms, kcorePath = '/proc/kcore'): string[] {
  if (process.arch !== 'x64') throw new PwruError('BPF helpers tracking is only supported on amd64');
  const kcore = Kcore.open(kcorePath);
  try {
    return bpfHelperCalls({
      programs: jitedBpfSymbols(ksyms),
      read: (addr, len) => {
        const s = kcore.segmentOf(addr, 1);
        if (!s) return undefined;
        const avail = s.vaddr + s.size - addr;
        return kcore.read(addr, avail < BigInt(len) ? Number(avail) : len);
      },
      nameAt: (addr) => ksyms.exact({ hi: Number(addr >> 32n), lo: Number(addr & 0xffffffffn) }),
    });
  } finally {
    kcore.close();
  }
}

/**
 * `--filter-track-bpf-helpers`: the options with the kernel functions the loaded BPF programs
 * call added to `--filter-non-skb-funcs` (by-stackid tracking reports them with the skb their
 * stack carries), as upstream does. Module functions (`name[mod]`) are left out.
 */
export function withBpfHelpers(
  opts: PwruOptions,
  log: Logger,
  scan: (ksyms: Ksyms) => string[] = jitedBpfHelperCalls,
  ksyms: () => Ksyms = () => Ksyms.load(),
): PwruOptions {
  if (process.arch !== 'x64') throw new PwruError('BPF helpers tracking is only supported on amd64');
  let syms: Ksyms;
  try {
    syms = ksyms();
  } catch (e) {
    throw new PwruError(`--filter-track-bpf-helpers: ${(e as Error).message}`);
  }
  let found: string[];
  try {
    found = scan(syms);
  } catch (e) {
    if (e instanceof KcoreError)
      throw new PwruError(`--filter-track-bpf-helpers reads the JITed BPF programs from /proc/kcore: ${e.message}`);
    throw e;
  }
  const helpers = found.filter((n) => !n.includes('['));
  log.info('Found functions called by BPF programs', { count: helpers.length });
  return {
    ...opts,
    filterTrackSkbByStackid: true,
    filterNonSkbFuncs: [...new Set([...opts.filterNonSkbFuncs, ...helpers])],
  };
}
