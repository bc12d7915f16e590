import { existsSync, readFileSync } from 'node:fs';
import { errorFromErrno, FeatureUnsupportedError, type ErrnoContext } from '../errors.js';
import type { Program } from '../prog/program.js';
import { PerfEventAttr } from '../sys/attr.js';
import type { SyscallBackend, NativeMemory } from '../sys/backend.js';
import { nativeString } from '../sys/bpf.js';
import { writeFields } from '../sys/layout.js';
import { attachPerfEvent, PERF_FLAG_FD_CLOEXEC, type PerfEventAttachment } from './perf-event.js';

const PMU_DIR = '/sys/bus/event_source/devices/kprobe';

/** The kprobe PMU: its perf type and the config bit that makes a probe a kretprobe. */
export interface KprobePmu {
  /** perf_event_attr.type for kprobes. */
  readonly type: number;
  /** Bit of perf_event_attr.config selecting a return probe. */
  readonly retprobeBit: number;
}

let pmu: KprobePmu | undefined;

/**
 * Reads the kprobe PMU from sysfs (`type`, `format/retprobe`), cached.
 * @throws FeatureUnsupportedError when the kernel has no kprobe PMU (CONFIG_KPROBES off or < 4.17)
 */
export function kprobePmu(dir = PMU_DIR): KprobePmu {
  if (pmu && dir === PMU_DIR) return pmu;
  if (!existsSync(`${dir}/type`)) {
    throw new FeatureUnsupportedError(
      'kprobes (perf kprobe PMU)',
      '4.17',
      `${dir} is missing; the kernel was built without CONFIG_KPROBES`,
    );
  }
  const type = Number(readFileSync(`${dir}/type`, 'utf8').trim());
  const fmt = readFileSync(`${dir}/format/retprobe`, 'utf8').trim(); // "config:0"
  const m = /^config:(\d+)$/.exec(fmt);
  const result = { type, retprobeBit: m ? Number(m[1]) : 0 };
  if (dir === PMU_DIR) pmu = result;
  return result;
}

/** Options of {@link attachKprobe}. */
export interface KprobeOptions {
  /** Attach at function return (kretprobe). */
  readonly retprobe?: boolean;
  /** Byte offset into the function (kprobes only). */
  readonly offset?: number;
  /** Value bpf_get_attach_cookie() returns in the program (5.15+). */
  readonly cookie?: bigint;
  /** Probe this kernel address instead of a symbol (for duplicate names; from /proc/kallsyms). */
  readonly address?: bigint;
  /** The kprobe PMU to use (default: read from sysfs); for tests. */
  readonly pmu?: KprobePmu;
}

/** Error hints for a failed kprobe on `symbol`. */
export function kprobeErrorContext(symbol: string, opts: KprobeOptions = {}): ErrnoContext {
  return {
    operation: `attach ${opts.retprobe ? 'kretprobe' : 'kprobe'} ${symbol}`,
    hints: {
      ENOENT: `function "${symbol}" is not traceable on this kernel (absent, inlined, or notrace; see available_filter_functions)`,
      EINVAL: opts.offset
        ? `offset ${opts.offset} is not an instruction boundary in ${symbol}`
        : `"${symbol}" cannot be probed (blacklisted or not a function)`,
      EADDRNOTAVAIL: `"${symbol}" names several kernel symbols; attach by address with kprobe-multi`,
      EEXIST: `a probe on ${symbol} already exists with different options`,
    },
  };
}

/** Writes the perf_event_attr of a kprobe on the function whose name is at `nameAddress`. */
export function writeKprobeAttr(mem: NativeMemory, p: KprobePmu, nameAddress: number, opts: KprobeOptions): void {
  mem.bytes.fill(0, 0, PerfEventAttr.size);
  writeFields(mem.view, PerfEventAttr, {
    type: p.type,
    size: PerfEventAttr.size,
    config: opts.retprobe ? 1 << p.retprobeBit : 0,
    samplePeriod: 1,
    wakeupEvents: 1,
    config1: opts.address !== undefined ? 0 : nameAddress,
    config2: opts.address !== undefined ? opts.address : (opts.offset ?? 0),
  });
}

/** Opens the perf event of a kprobe (no program attached yet); returns the fd. */
export function openKprobe(backend: SyscallBackend, symbol: string, opts: KprobeOptions = {}): number {
  const p = opts.pmu ?? kprobePmu();
  const name = nativeString(backend, symbol);
  const attr = backend.alloc(PerfEventAttr.size);
  try {
    writeKprobeAttr(attr, p, name.address, opts);
    const fd = backend.perfEventOpen(attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) throw errorFromErrno(fd, kprobeErrorContext(symbol, opts));
    return fd;
  } finally {
    attr.free();
    name.free();
  }
}

/**
 * Attaches a kprobe (or kretprobe) program to a kernel function through the perf kprobe PMU,
 * then BPF_LINK_CREATE (or PERF_EVENT_IOC_SET_BPF on old kernels).
 */
export function attachKprobe(prog: Program, symbol: string, opts: KprobeOptions = {}): PerfEventAttachment {
  // With `address`, `symbol` only names the probe in messages.
  const fd = openKprobe(prog.backend, symbol, opts);
  return attachPerfEvent(prog, fd, `${opts.retprobe ? 'kretprobe' : 'kprobe'} ${symbol}`, opts);
}
