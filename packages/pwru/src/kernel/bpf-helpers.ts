import { bpfHelperCalls, jitedBpfSymbols } from '../discovery/bpf-helpers.js';
import { PwruError } from '../errors.js';
import type { Ksyms } from '../ksyms.js';
import { Kcore } from './kcore.js';

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
