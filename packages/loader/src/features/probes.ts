import { closeSync, existsSync, openSync } from 'node:fs';
import { BtfBuilder } from 'btf-parser';
import { call, exit, Mov, R0, type Instruction } from 'bpf-asm-ts';
import { FeatureUnsupportedError, PermissionError } from '../errors.js';
import { BtfHandle } from '../btf/handle.js';
import { attachKprobeMulti } from '../link/kprobe-multi.js';
import { linkCreateRaw } from '../link/link.js';
import { tracefsRoot } from '../fs/mounts.js';
import { functionBtfId, tracepointBtfId } from '../link/targets.js';
import { attachTracing } from '../link/tracing.js';
import { attachKprobe } from '../link/kprobe.js';
import { BpfMap } from '../map/map.js';
import { Program, programTypeName } from '../prog/program.js';
import { VerifierError } from '../prog/verifier-error.js';
import { defaultBackend, type SyscallBackend } from '../sys/backend.js';
import { Errno } from '../sys/errno.js';
import { AttachType, MapType, ProgramType } from '../sys/generated/constants.js';
import { mapTypeName } from '../map/map.js';

/** Result of a probe: supported, or not with the reason. */
export interface ProbeResult {
  /** Feature name, e.g. `map type ringbuf`. */
  readonly feature: string;
  /** Whether this kernel has it. */
  readonly supported: boolean;
  /** The first kernel version that has it (`?` when not tabulated). */
  readonly minKernel: string;
  /** Why it is not supported. */
  readonly detail?: string;
}

const PROG_MIN: Partial<Record<number, string>> = {
  [ProgramType.SOCKET_FILTER]: '3.19',
  [ProgramType.KPROBE]: '4.1',
  [ProgramType.SCHED_CLS]: '4.1',
  [ProgramType.SCHED_ACT]: '4.1',
  [ProgramType.TRACEPOINT]: '4.7',
  [ProgramType.XDP]: '4.8',
  [ProgramType.PERF_EVENT]: '4.9',
  [ProgramType.CGROUP_SKB]: '4.10',
  [ProgramType.RAW_TRACEPOINT]: '4.17',
  [ProgramType.TRACING]: '5.5',
  [ProgramType.EXT]: '5.6',
  [ProgramType.LSM]: '5.7',
  [ProgramType.SYSCALL]: '5.14',
  [ProgramType.NETFILTER]: '6.4',
};

const MAP_MIN: Partial<Record<number, string>> = {
  [MapType.HASH]: '3.19',
  [MapType.ARRAY]: '3.19',
  [MapType.PROG_ARRAY]: '4.2',
  [MapType.PERF_EVENT_ARRAY]: '4.3',
  [MapType.PERCPU_HASH]: '4.6',
  [MapType.PERCPU_ARRAY]: '4.6',
  [MapType.STACK_TRACE]: '4.6',
  [MapType.LRU_HASH]: '4.10',
  [MapType.LRU_PERCPU_HASH]: '4.10',
  [MapType.LPM_TRIE]: '4.11',
  [MapType.ARRAY_OF_MAPS]: '4.12',
  [MapType.HASH_OF_MAPS]: '4.12',
  [MapType.QUEUE]: '4.20',
  [MapType.STACK]: '4.20',
  [MapType.RINGBUF]: '5.8',
  [MapType.BLOOM_FILTER]: '5.16',
};

const cache = new Map<string, ProbeResult>();

function cached(key: string, run: () => ProbeResult): ProbeResult {
  let r = cache.get(key);
  if (!r) {
    r = run();
    cache.set(key, r);
  }
  return r;
}

/** Forgets every cached probe result. */
export function flushFeatureCache(): void {
  cache.clear();
}

/** Throws {@link FeatureUnsupportedError} unless the probe says supported. */
export function requireFeature(result: ProbeResult): void {
  if (!result.supported) throw new FeatureUnsupportedError(result.feature, result.minKernel, result.detail);
}

function describe(e: unknown): string {
  if (e instanceof VerifierError) return e.reason;
  if (e instanceof PermissionError && isRoot())
    return `${e.operation}: refused with EPERM even as root (kernel lockdown or no support in this kernel build)`;
  return e instanceof Error ? e.message : String(e);
}

/** Running as root with EPERM means the kernel refuses (lockdown, missing config), not a privilege problem. */
function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function rethrowPermission(e: unknown): void {
  if (e instanceof PermissionError && !isRoot()) throw e;
}

const NOOP: Instruction[] = [Mov.imm(R0, 0), exit()];

/** A minimal loadable spec for a program type (tracing types need a target). */
function minimalProgram(type: ProgramType): Parameters<typeof Program.load>[0] {
  switch (type) {
    case ProgramType.TRACING:
      return {
        type,
        expectedAttachType: AttachType.TRACE_RAW_TP,
        attachBtfId: tracepointBtfId('kfree_skb'),
        instructions: NOOP,
      };
    case ProgramType.CGROUP_SOCK_ADDR:
      return { type, expectedAttachType: AttachType.CGROUP_INET4_CONNECT, instructions: [Mov.imm(R0, 1), exit()] };
    default:
      return { type, instructions: NOOP };
  }
}

/** Can this kernel load programs of `type`? */
export function probeProgramType(type: ProgramType, backend: SyscallBackend = defaultBackend()): ProbeResult {
  const feature = `program type ${programTypeName(type)}`;
  const minKernel = PROG_MIN[type] ?? '?';
  return cached(feature, () => {
    try {
      Program.load(minimalProgram(type), { backend }).close();
      return { feature, supported: true, minKernel };
    } catch (e) {
      rethrowPermission(e);
      return { feature, supported: false, minKernel, detail: describe(e) };
    }
  });
}

/** Can this kernel create maps of `type`? */
export function probeMapType(type: number, backend: SyscallBackend = defaultBackend()): ProbeResult {
  const feature = `map type ${mapTypeName(type)}`;
  const minKernel = MAP_MIN[type] ?? '?';
  return cached(feature, () => {
    const inner =
      type === MapType.ARRAY_OF_MAPS || type === MapType.HASH_OF_MAPS
        ? BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 }, { backend })
        : undefined;
    const spec =
      type === MapType.RINGBUF
        ? { type, keySize: 0, valueSize: 0, maxEntries: 4096 }
        : type === MapType.QUEUE || type === MapType.STACK || type === MapType.BLOOM_FILTER
          ? { type, keySize: 0, valueSize: 4, maxEntries: 1 }
          : type === MapType.LPM_TRIE
            ? { type, keySize: 8, valueSize: 4, maxEntries: 1, flags: 1 }
            : { type, keySize: 4, valueSize: 4, maxEntries: 1, innerMap: inner };
    try {
      BpfMap.create({ ...spec, type: type as MapType }, { backend }).close();
      return { feature, supported: true, minKernel };
    } catch (e) {
      rethrowPermission(e);
      return { feature, supported: false, minKernel, detail: describe(e) };
    } finally {
      inner?.close();
    }
  });
}

/** Can programs of `progType` call helper `helperId`? (The verifier answers.) */
export function probeHelper(
  progType: ProgramType,
  helperId: number,
  backend: SyscallBackend = defaultBackend(),
): ProbeResult {
  const feature = `helper ${helperId} in ${programTypeName(progType)} programs`;
  return cached(feature, () => {
    const spec = minimalProgram(progType);
    try {
      Program.load({ ...spec, instructions: [call(helperId), Mov.imm(R0, 0), exit()] }, { backend }).close();
      return { feature, supported: true, minKernel: '?' };
    } catch (e) {
      rethrowPermission(e);
      // Rejections other than "unknown/forbidden helper" (e.g. bad arguments) mean the helper exists.
      if (
        e instanceof VerifierError &&
        !/invalid func|unknown func|cannot call|not supported|program of this type cannot use helper/.test(e.logText)
      ) {
        return { feature, supported: true, minKernel: '?' };
      }
      return { feature, supported: false, minKernel: '?', detail: describe(e) };
    }
  });
}

/** Link kinds {@link probeLinkType} knows. */
export type ProbedLinkType = 'kprobe' | 'kprobe_multi' | 'tracing' | 'tcx' | 'perf_event';

/** Can this kernel attach links of this kind? Each probe attaches for an instant and detaches. */
export function probeLinkType(kind: ProbedLinkType, backend: SyscallBackend = defaultBackend()): ProbeResult {
  switch (kind) {
    case 'kprobe':
      return cached('link kprobe', () => {
        const ok = existsSync('/sys/bus/event_source/devices/kprobe/type');
        return ok
          ? { feature: 'kprobe links', supported: true, minKernel: '4.17' }
          : {
              feature: 'kprobe links',
              supported: false,
              minKernel: '4.17',
              detail: 'no perf kprobe PMU (CONFIG_KPROBES off)',
            };
      });
    case 'perf_event':
      return cached('link perf_event', () => {
        // BPF_LINK_CREATE on a perf event (a kprobe here); older kernels only take the ioctl.
        const feature = 'BPF links on perf events';
        if (!probeLinkType('kprobe', backend).supported)
          return { feature, supported: false, minKernel: '5.15', detail: 'no kprobes to try it on' };
        try {
          using prog = Program.load({ type: ProgramType.KPROBE, instructions: NOOP }, { backend });
          using a = attachKprobe(prog, 'vprintk');
          return a.isLink
            ? { feature, supported: true, minKernel: '5.15' }
            : {
                feature,
                supported: false,
                minKernel: '5.15',
                detail: 'BPF_LINK_CREATE refused the perf event; attached through PERF_EVENT_IOC_SET_BPF',
              };
        } catch (e) {
          rethrowPermission(e);
          return { feature, supported: false, minKernel: '5.15', detail: describe(e) };
        }
      });
    case 'kprobe_multi':
      return cached('link kprobe_multi', () => {
        const feature = 'kprobe-multi links';
        try {
          using prog = Program.load(
            { type: ProgramType.KPROBE, expectedAttachType: AttachType.TRACE_KPROBE_MULTI, instructions: NOOP },
            { backend },
          );
          attachKprobeMulti(prog, { symbols: ['vprintk'] }).close();
          return { feature, supported: true, minKernel: '5.18' };
        } catch (e) {
          rethrowPermission(e);
          return { feature, supported: false, minKernel: '5.18', detail: describe(e) };
        }
      });
    case 'tracing':
      return cached('link tracing', () => {
        const feature = 'fentry/fexit (tracing) links';
        try {
          using prog = Program.load(
            {
              type: ProgramType.TRACING,
              expectedAttachType: AttachType.TRACE_FENTRY,
              attachBtfId: functionBtfId('vprintk'),
              instructions: NOOP,
            },
            { backend },
          );
          // As attachTracing does: BPF_LINK_CREATE, or RAW_TRACEPOINT_OPEN before 5.13 took it.
          attachTracing(prog, {
            attachType: AttachType.TRACE_FENTRY,
            target: 'fentry vprintk (feature probe)',
          }).close();
          return { feature, supported: true, minKernel: '5.5' };
        } catch (e) {
          rethrowPermission(e);
          return { feature, supported: false, minKernel: '5.5', detail: describe(e) };
        }
      });
    case 'tcx':
      return cached('link tcx', () => {
        const feature = 'tcx links';
        try {
          using prog = Program.load(
            { type: ProgramType.SCHED_CLS, expectedAttachType: AttachType.TCX_INGRESS, instructions: NOOP },
            { backend },
          );
          // An ifindex that cannot exist: tcx kernels look the device up (ENODEV); older ones
          // reject the attach type (EINVAL). Nothing gets attached either way.
          const r = linkCreateRaw(backend, {
            progFd: prog.fd,
            targetIfindex: 0x7fff_fff0,
            attachType: AttachType.TCX_INGRESS,
          });
          if (r >= 0) backend.close(r);
          const supported = r >= 0 || r === -Errno.ENODEV;
          return supported
            ? { feature, supported, minKernel: '6.6' }
            : { feature, supported, minKernel: '6.6', detail: `link create gave errno ${-r}` };
        } catch (e) {
          rethrowPermission(e);
          return { feature, supported: false, minKernel: '6.6', detail: describe(e) };
        }
      });
  }
}

/** Can this kernel load BTF (needed for func_info, tp_btf targets, CO-RE-free tracing)? */
export function probeBtf(backend: SyscallBackend = defaultBackend()): ProbeResult {
  return cached('btf', () => {
    const feature = 'BTF loading';
    try {
      const b = new BtfBuilder();
      b.addInt('int', 4, { signed: true });
      BtfHandle.load(b.build(), { backend }).close();
      return { feature, supported: true, minKernel: '4.18' };
    } catch (e) {
      rethrowPermission(e);
      return { feature, supported: false, minKernel: '4.18', detail: describe(e) };
    }
  });
}

/** Is the kernel's own BTF present (`/sys/kernel/btf/vmlinux`, CONFIG_DEBUG_INFO_BTF)? */
export function probeKernelBtf(): ProbeResult {
  return cached('kernel btf', () => {
    const ok = existsSync('/sys/kernel/btf/vmlinux');
    return {
      feature: 'kernel BTF (/sys/kernel/btf/vmlinux)',
      supported: ok,
      minKernel: '5.4',
      ...(ok ? {} : { detail: 'kernel built without CONFIG_DEBUG_INFO_BTF' }),
    };
  });
}

/** Is tracefs mounted and `available_filter_functions` readable (needed to list traceable functions)? */
export function probeTracefs(): ProbeResult {
  return cached('tracefs', () => {
    const feature = 'tracefs available_filter_functions';
    try {
      const root = tracefsRoot();
      // Open rather than access(): root passes access() while lockdown refuses the open.
      closeSync(openSync(`${root}/available_filter_functions`, 'r'));
      return { feature, supported: true, minKernel: '2.6.30' };
    } catch (e) {
      return { feature, supported: false, minKernel: '2.6.30', detail: e instanceof Error ? e.message : String(e) };
    }
  });
}
