import { Errno, errnoDescription, errnoName } from './sys/errno.js';

/** Base class of every error this package throws. */
export class BpfError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Context that turns a bare errno into an actionable message. */
export interface ErrnoContext {
  /** What was being done, e.g. `BPF_MAP_CREATE "events"` or `attach kprobe tcp_v4_rcv`. */
  readonly operation: string;
  /** Extra explanation per errno name, e.g. `{ EINVAL: 'key_size 0 is invalid' }`. */
  readonly hints?: Partial<Record<keyof typeof Errno, string>>;
  /** Whether the operation needs CAP_NET_ADMIN too (tc, xdp), for the EPERM hint. */
  readonly needsNetAdmin?: boolean;
}

/** A syscall failed; `errno` and `code` say how. */
export class SyscallError extends BpfError {
  /** The errno value. */
  readonly errno: number;
  /** The errno name (`EPERM`). */
  readonly code: string;
  /** The operation that failed. */
  readonly operation: string;
  constructor(errno: number, operation: string, hint?: string) {
    super(`${operation}: ${errnoName(errno)} (${errnoDescription(errno)})${hint ? ` — ${hint}` : ''}`);
    this.errno = errno;
    this.code = errnoName(errno);
    this.operation = operation;
  }
}

/** EPERM/EACCES: the process lacks privileges. */
export class PermissionError extends SyscallError {}

/** ENOENT/ESRCH: the object (function, tracepoint, id, pin path) does not exist. */
export class NotFoundError extends SyscallError {}

/** EINVAL/E2BIG/ERANGE: an attribute was rejected. */
export class InvalidArgumentError extends SyscallError {}

/** ENOTSUPP (524)/EOPNOTSUPP/ENOSYS: the kernel does not support the operation. */
export class NotSupportedError extends SyscallError {}

/** EBUSY/EEXIST: something is already attached or exists. */
export class BusyError extends SyscallError {}

/** Builds the typed error for a negative syscall result (or a positive errno). */
export function errorFromErrno(errnoOrResult: number, ctx: ErrnoContext): SyscallError {
  const errno = Math.abs(errnoOrResult);
  const name = errnoName(errno) as keyof typeof Errno;
  const given = ctx.hints?.[name];
  switch (errno) {
    case Errno.EPERM:
    case Errno.EACCES:
      return new PermissionError(
        errno,
        ctx.operation,
        given ??
          `run as root or grant CAP_BPF+CAP_PERFMON${ctx.needsNetAdmin ? '+CAP_NET_ADMIN' : ' (+CAP_NET_ADMIN for tc/xdp)'}`,
      );
    case Errno.ENOENT:
    case Errno.ESRCH:
      return new NotFoundError(errno, ctx.operation, given);
    case Errno.EINVAL:
    case Errno.E2BIG:
    case Errno.ERANGE:
      return new InvalidArgumentError(errno, ctx.operation, given);
    case Errno.ENOTSUPP:
    case Errno.EOPNOTSUPP:
    case Errno.ENOSYS:
      return new NotSupportedError(errno, ctx.operation, given ?? 'this kernel does not support it');
    case Errno.EBUSY:
    case Errno.EEXIST:
      return new BusyError(errno, ctx.operation, given);
    case Errno.EMFILE:
    case Errno.ENFILE:
      return new SyscallError(errno, ctx.operation, given ?? 'raise the open-file limit (ulimit -n)');
    default:
      return new SyscallError(errno, ctx.operation, given);
  }
}

/** A kernel feature this program needs is missing. */
export class FeatureUnsupportedError extends BpfError {
  /** The feature name, e.g. `link type kprobe_multi`. */
  readonly feature: string;
  /** The first kernel version that has it. */
  readonly minKernel: string;
  constructor(feature: string, minKernel: string, detail?: string) {
    super(`${feature} is not supported by this kernel (needs Linux >= ${minKernel})${detail ? `: ${detail}` : ''}`);
    this.feature = feature;
    this.minKernel = minKernel;
  }
}

/** A handle was used after close(). */
export class ClosedError extends BpfError {}
