import { readFileSync } from 'node:fs';
import { errorFromErrno, FeatureUnsupportedError, type ErrnoContext } from '../errors.js';
import type { Program } from '../prog/program.js';
import { PERF_EVENT_ATTR_FLAGS_OFFSET, PerfEventAttr } from '../sys/attr.js';
import type { SyscallBackend } from '../sys/backend.js';
import { Errno } from '../sys/errno.js';
import { AttachType } from '../sys/generated/constants.js';
import { writeFields, type FieldValue } from '../sys/layout.js';
import { Attachment, linkCreateRaw } from './link.js';
import { tracefsRoot } from '../fs/mounts.js';

/** perf_event_attr.type values. */
export const PerfType = { HARDWARE: 0, SOFTWARE: 1, TRACEPOINT: 2, HW_CACHE: 3, RAW: 4, BREAKPOINT: 5 } as const;
/** PERF_COUNT_SW_BPF_OUTPUT: the software event bpf_perf_event_output writes to. */
export const PERF_COUNT_SW_BPF_OUTPUT = 10;
/** PERF_SAMPLE_RAW. */
export const PERF_SAMPLE_RAW = 1 << 10;
/** perf_event_open flag: close-on-exec. */
export const PERF_FLAG_FD_CLOEXEC = 8;
/** perf event ioctls. */
export const PerfIoctl = { ENABLE: 0x2400, DISABLE: 0x2401, SET_BPF: 0x40042408 } as const;

/** Fields for {@link perfEventOpen}. */
export interface PerfEventOpenOptions {
  /** perf_event_attr fields. */
  readonly attr: Partial<Record<keyof typeof PerfEventAttr.fields, FieldValue>>;
  /** Flag bits for the word at offset 40 (disabled, inherit, watermark, ...). */
  readonly flags?: bigint;
  /** pid (-1: all processes). */
  readonly pid?: number;
  /** CPU (-1: any). */
  readonly cpu?: number;
  /** Error context. */
  readonly ctx: ErrnoContext;
}

/** perf_event_open(2) with a perf_event_attr built from named fields; returns the fd. */
export function perfEventOpen(backend: SyscallBackend, opts: PerfEventOpenOptions): number {
  const mem = backend.alloc(PerfEventAttr.size);
  try {
    writeFields(mem.view, PerfEventAttr, { size: PerfEventAttr.size, ...opts.attr });
    if (opts.flags) mem.view.setBigUint64(PERF_EVENT_ATTR_FLAGS_OFFSET, opts.flags, true);
    const fd = backend.perfEventOpen(mem, opts.pid ?? -1, opts.cpu ?? 0, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) throw errorFromErrno(fd, opts.ctx);
    return fd;
  } finally {
    mem.free();
  }
}

/**
 * A program attached to a perf event (kprobe, uprobe, tracepoint): owns the perf event fd and,
 * on kernels with perf links, the BPF link fd. Closing both detaches.
 */
export class PerfEventAttachment extends Attachment {
  #linkFd: number;
  constructor(
    perfFd: number,
    linkFd: number,
    backend: SyscallBackend,
    /** What is attached where. */
    readonly target: string,
  ) {
    super(perfFd, backend);
    this.#linkFd = linkFd;
  }

  /** Whether the attachment is a BPF link (vs the PERF_EVENT_IOC_SET_BPF fallback). */
  get isLink(): boolean {
    return this.#linkFd >= 0;
  }

  protected override beforeClose(): void {
    if (this.#linkFd >= 0) this.backend.close(this.#linkFd);
    this.#linkFd = -1;
  }

  /**
   * Closes on the libuv pool instead of the main thread: removing a kprobe waits for an RCU
   * grace period, so many of these in parallel detach far faster than serial close() calls.
   */
  async closeAsync(): Promise<void> {
    const link = this.#linkFd;
    this.#linkFd = -1;
    const fd = this.takeFd();
    if (link >= 0) await this.backend.closeAsync(link);
    if (fd >= 0) await this.backend.closeAsync(fd);
  }
}

/**
 * Attaches `prog` to an open perf event fd (taking ownership of it): BPF_LINK_CREATE with
 * BPF_PERF_EVENT (5.15+, supports cookies), else PERF_EVENT_IOC_SET_BPF + ENABLE.
 */
export function attachPerfEvent(
  prog: Program,
  perfFd: number,
  target: string,
  opts: { cookie?: bigint } = {},
): PerfEventAttachment {
  const backend = prog.backend;
  try {
    const r = linkCreateRaw(backend, {
      progFd: prog.fd,
      targetFd: perfFd,
      attachType: AttachType.PERF_EVENT,
      perfEventBpfCookie: opts.cookie,
    });
    if (r >= 0) return new PerfEventAttachment(perfFd, r, backend, target);
    if (r !== -Errno.EINVAL && r !== -Errno.ENOTSUPP && r !== -Errno.EOPNOTSUPP) {
      throw errorFromErrno(r, { operation: `attach ${target}` });
    }
    if (opts.cookie !== undefined) {
      throw new FeatureUnsupportedError('BPF cookies on perf event links', '5.15');
    }
    const s = backend.ioctl(perfFd, PerfIoctl.SET_BPF, prog.fd);
    if (s < 0) {
      throw errorFromErrno(s, {
        operation: `attach ${target}`,
        hints: {
          EINVAL: `program type does not match the event (a kprobe needs a kprobe program, a tracepoint a tracepoint program)`,
        },
      });
    }
    const e = backend.ioctl(perfFd, PerfIoctl.ENABLE, 0);
    if (e < 0) throw errorFromErrno(e, { operation: `enable ${target}` });
    return new PerfEventAttachment(perfFd, -1, backend, target);
  } catch (err) {
    backend.close(perfFd);
    throw err;
  }
}

/** Attaches a tracepoint program to `category:name` through a perf event (tracefs id). */
export function attachTracepoint(
  prog: Program,
  category: string,
  name: string,
  opts: { cookie?: bigint } = {},
): PerfEventAttachment {
  const root = tracefsRoot();
  let id: number;
  try {
    id = Number(readFileSync(`${root}/events/${category}/${name}/id`, 'utf8').trim());
  } catch {
    throw errorFromErrno(-Errno.ENOENT, {
      operation: `attach tracepoint ${category}:${name}`,
      hints: { ENOENT: `no such tracepoint (see ${root}/available_events)` },
    });
  }
  const fd = perfEventOpen(prog.backend, {
    attr: { type: PerfType.TRACEPOINT, config: id, samplePeriod: 1, wakeupEvents: 1 },
    ctx: { operation: `perf_event_open tracepoint ${category}:${name}` },
  });
  return attachPerfEvent(prog, fd, `tracepoint ${category}:${name}`, opts);
}
