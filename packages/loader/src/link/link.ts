import { errorFromErrno, type ErrnoContext } from '../errors.js';
import { FdHandle } from '../fd.js';
import { getInfoByFd, type ObjectInfo } from '../info.js';
import { pinFd } from '../map/map.js';
import { LinkCreateAttr, LinkDetachAttr, LinkInfo } from '../sys/attr.js';
import type { SyscallBackend } from '../sys/backend.js';
import { bpfFor } from '../sys/bpf.js';
import type { FieldValue } from '../sys/layout.js';
import { BpfCommand, LinkType } from '../sys/generated/constants.js';
import { readNumber } from '../sys/layout.js';

/** What the kernel reports about a link. */
export interface LinkInfoResult extends ObjectInfo {
  /** {@link LinkType} value. */
  readonly type: number;
  /** Id of the attached program. */
  readonly programId: number;
}

const linkTypeNames = new Map<number, string>(Object.entries(LinkType).map(([k, v]) => [v, k.toLowerCase()]));

/** Lower-case name of a link type (`kprobe_multi`). */
export function linkTypeName(type: number): string {
  return linkTypeNames.get(type) ?? `link type ${type}`;
}

/**
 * An attachment. Closing it detaches the program; because it is an fd, the kernel also
 * detaches it when the process dies, even by SIGKILL.
 */
export abstract class Attachment extends FdHandle {
  /** What is attached where, e.g. `tp_btf kfree_skb`. */
  abstract readonly target: string;
  protected describe(): string {
    return `link ${this.target}`;
  }
}

/** A BPF link (BPF_LINK_CREATE or BPF_RAW_TRACEPOINT_OPEN): one fd. */
export class Link extends Attachment {
  constructor(
    fd: number,
    backend: SyscallBackend,
    /** What is attached where. */
    readonly target: string,
  ) {
    super(fd, backend);
  }

  /** Kernel info: link id, type, program id. */
  info(): LinkInfoResult {
    const { view, id } = getInfoByFd(this.backend, this.fd, LinkInfo, 'link');
    return { id, type: readNumber(view, LinkInfo.fields.type), programId: readNumber(view, LinkInfo.fields.progId) };
  }

  /** Pins the link in bpffs so it outlives this process (until unpinned). */
  pin(path: string): void {
    pinFd(this.backend, this.fd, path, this.describe());
  }

  /** Detaches the program while keeping the fd (BPF_LINK_DETACH); close() still needed. */
  detach(): void {
    bpfFor(this.backend).call(
      BpfCommand.LINK_DETACH,
      LinkDetachAttr,
      { linkFd: this.fd },
      { operation: `detach ${this.describe()}` },
    );
  }
}

/** BPF_LINK_CREATE returning the raw result (fd or negative errno). */
export function linkCreateRaw(
  backend: SyscallBackend,
  values: Partial<Record<keyof typeof LinkCreateAttr.fields, FieldValue>>,
): number {
  return bpfFor(backend).raw(BpfCommand.LINK_CREATE, LinkCreateAttr, values);
}

/** BPF_LINK_CREATE, throwing a typed error. */
export function linkCreate(
  backend: SyscallBackend,
  values: Partial<Record<keyof typeof LinkCreateAttr.fields, FieldValue>>,
  ctx: ErrnoContext,
): number {
  const r = linkCreateRaw(backend, values);
  if (r < 0) throw errorFromErrno(r, ctx);
  return r;
}
