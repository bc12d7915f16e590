import { BpfError, errorFromErrno } from '../errors.js';
import type { Program } from '../prog/program.js';
import { RawTracepointAttr } from '../sys/attr.js';
import { bpfFor, nativeString } from '../sys/bpf.js';
import { Errno } from '../sys/errno.js';
import { AttachType, BpfCommand, ProgramType } from '../sys/generated/constants.js';
import { Link, linkCreateRaw } from './link.js';

/**
 * Attaches a raw tracepoint program (BPF_PROG_TYPE_RAW_TRACEPOINT) to a tracepoint by name,
 * e.g. `kfree_skb` — no tracefs needed.
 */
export function attachRawTracepoint(prog: Program, name: string, opts: { cookie?: bigint } = {}): Link {
  const backend = prog.backend;
  const s = nativeString(backend, name);
  try {
    const fd = bpfFor(backend).call(
      BpfCommand.RAW_TRACEPOINT_OPEN,
      RawTracepointAttr,
      { name: s.address, progFd: prog.fd, cookie: opts.cookie },
      {
        operation: `attach raw_tp ${name}`,
        hints: {
          ENOENT: `there is no tracepoint "${name}" on this kernel (see /sys/kernel/tracing/available_events; use the event name without its category)`,
          EINVAL: prog.type !== ProgramType.RAW_TRACEPOINT ? 'the program must be of type raw_tracepoint' : undefined,
        },
      },
    );
    return new Link(fd, backend, `raw_tp ${name}`);
  } finally {
    s.free();
  }
}

/**
 * The attach types {@link attachTracing} takes: those of a program whose target was fixed at load
 * by `attachBtfId`, the same as its `expectedAttachType`. `TRACE_RAW_TP` is tp_btf,
 * `MODIFY_RETURN` fmod_ret, `LSM_MAC` an LSM hook.
 */
export type TracingAttachType =
  | typeof AttachType.TRACE_RAW_TP
  | typeof AttachType.TRACE_FENTRY
  | typeof AttachType.TRACE_FEXIT
  | typeof AttachType.MODIFY_RETURN
  | typeof AttachType.LSM_MAC;

const TRACING_ATTACH_TYPES: ReadonlySet<number> = new Set<TracingAttachType>([
  AttachType.TRACE_RAW_TP,
  AttachType.TRACE_FENTRY,
  AttachType.TRACE_FEXIT,
  AttachType.MODIFY_RETURN,
  AttachType.LSM_MAC,
]);

/** Whether `t` is an attach type {@link attachTracing} takes (narrows a section's attach type). */
export function isTracingAttachType(t: number | undefined): t is TracingAttachType {
  return t !== undefined && TRACING_ATTACH_TYPES.has(t);
}

/** Options of {@link attachTracing}. */
export interface TracingAttachOptions {
  /** The program's expected attach type (fentry, fexit, tp_btf, fmod_ret or lsm). */
  readonly attachType: TracingAttachType;
  /** `bpf_get_attach_cookie()`'s value (5.15+; without it the raw-tracepoint fallback is used). */
  readonly cookie?: bigint;
  /** What the link is for, in error messages (default: the program's name). */
  readonly target?: string;
}

/**
 * Attaches a tracing program whose target was fixed at load time by `attachBtfId`
 * (tp_btf, fentry, fexit, fmod_ret, lsm): BPF_LINK_CREATE, falling back to
 * BPF_RAW_TRACEPOINT_OPEN on kernels without tracing links. Another attach type is refused
 * with a {@link BpfError} before any syscall (iterators, cgroup LSM and kprobe-multi have their
 * own attach calls).
 */
export function attachTracing(prog: Program, opts: TracingAttachOptions): Link {
  if (!isTracingAttachType(opts.attachType)) {
    throw new BpfError(
      `attachTracing takes a tracing attach type (TRACE_FENTRY, TRACE_FEXIT, TRACE_RAW_TP, MODIFY_RETURN or LSM_MAC), not ${opts.attachType}`,
    );
  }
  const backend = prog.backend;
  const target = opts.target ?? `tracing program "${prog.name}"`;
  let r = linkCreateRaw(backend, { progFd: prog.fd, attachType: opts.attachType, tracingCookie: opts.cookie });
  if (r === -Errno.EINVAL && opts.cookie === undefined) {
    r = bpfFor(backend).raw(BpfCommand.RAW_TRACEPOINT_OPEN, RawTracepointAttr, { progFd: prog.fd });
  }
  if (r < 0) {
    throw errorFromErrno(r, {
      operation: `attach ${target}`,
      hints: {
        EINVAL:
          'the program was not loaded as a tracing program with attach_btf_id and a matching expected attach type',
        ENOTSUPP:
          'this kernel cannot attach fentry/fexit trampolines (no BPF trampoline support for this architecture/config)',
        EBUSY: 'the target already has the maximum number of trampoline programs',
      },
    });
  }
  return new Link(r, backend, target);
}
