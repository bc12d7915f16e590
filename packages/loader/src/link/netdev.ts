import { errorFromErrno, NotFoundError } from '../errors.js';
import type { Program } from '../prog/program.js';
import { type SyscallBackend, defaultBackend } from '../sys/backend.js';
import { Errno } from '../sys/errno.js';
import { AttachType } from '../sys/generated/constants.js';
import { Link, linkCreateRaw } from './link.js';
import { inNetns, type Netns } from './netns.js';

/** An interface given by index or by name (resolved in the calling thread's network namespace). */
export type Interface = number | string;

const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0x80000;
const SIOCGIFINDEX = 0x8933;
const IFNAMSIZ = 16;

/**
 * The ifindex of an interface name, asked of the kernel (SIOCGIFINDEX) in the calling thread's
 * network namespace, so it is right inside {@link withNetns} (sysfs shows the namespace it was
 * mounted in, not the caller's).
 */
export function ifindexOf(iface: Interface, backend: SyscallBackend = defaultBackend()): number {
  if (typeof iface === 'number') return iface;
  const name = new TextEncoder().encode(iface);
  if (name.length === 0 || name.length >= IFNAMSIZ) {
    throw new NotFoundError(Errno.ENODEV, `find interface ${iface}`, `interface names are 1 to ${IFNAMSIZ - 1} bytes`);
  }
  const fd = backend.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw errorFromErrno(fd, { operation: `find interface ${iface} (socket)` });
  const ifreq = backend.alloc(40);
  try {
    ifreq.bytes.set(name);
    const r = backend.ioctl(fd, SIOCGIFINDEX, ifreq.address);
    if (r < 0)
      throw new NotFoundError(-r, `find interface ${iface}`, 'no such network interface in this network namespace');
    return ifreq.view.getInt32(IFNAMSIZ, true);
  } finally {
    ifreq.free();
    backend.close(fd);
  }
}

/** Where a network attachment is made: the `netns` option of every netlink and XDP/tcx attach. */
export interface NetnsOption {
  /**
   * Network namespace to attach in (an `ip netns` name or a namespace file path); the interface
   * is resolved there. The calling thread enters it for the attach and returns (see
   * {@link withNetns}). Default: the caller's.
   */
  readonly netns?: Netns;
}

/** Options of {@link attachXdp}. */
export interface XdpOptions extends NetnsOption {
  /** An {@link XdpMode} (default: let the kernel pick, native if the driver has it). */
  readonly mode?: number;
}

/** XDP attach modes (XDP_FLAGS_*). */
export const XdpMode = { DEFAULT: 0, SKB: 1 << 1, DRIVER: 1 << 2, HW: 1 << 3 } as const;

/** Attaches an XDP program to an interface with a BPF link (5.9+); detached on close. */
export function attachXdp(prog: Program, iface: Interface, opts: XdpOptions = {}): Link {
  return inNetns(opts.netns, () => attachXdpHere(prog, iface, opts), prog.backend);
}

function attachXdpHere(prog: Program, iface: Interface, opts: XdpOptions): Link {
  const ifindex = ifindexOf(iface, prog.backend);
  const r = linkCreateRaw(prog.backend, {
    progFd: prog.fd,
    targetIfindex: ifindex,
    attachType: AttachType.XDP,
    flags: opts.mode ?? 0,
  });
  if (r < 0) {
    throw errorFromErrno(r, {
      operation: `attach xdp to ${iface}`,
      needsNetAdmin: true,
      hints: {
        EBUSY: 'another XDP program is attached to this interface',
        EEXIST: 'another XDP program is attached to this interface',
        EOPNOTSUPP: 'the driver does not support this XDP mode (try XdpMode.SKB)',
        EINVAL: 'the program must be of type xdp and the mode valid for this device',
      },
    });
  }
  return new Link(r, prog.backend, `xdp ${iface}${opts.netns === undefined ? '' : ` netns ${opts.netns}`}`);
}

/** Where a tcx program runs. */
export type TcxDirection = 'ingress' | 'egress';

/** Options of {@link attachTcx}. */
export interface TcxOptions extends NetnsOption {
  /** Ordering flags (BPF_F_BEFORE, BPF_F_AFTER, BPF_F_ID, BPF_F_LINK). */
  readonly flags?: number;
  /** Program/link fd (or id with BPF_F_ID) the flags are relative to. */
  readonly relativeFd?: number;
  /** Fail unless the attachment revision is this one (0: any). */
  readonly expectedRevision?: bigint;
}

/** Attaches a sched_cls program with tcx (Linux 6.6+): multi-program tc without qdiscs. */
export function attachTcx(prog: Program, iface: Interface, direction: TcxDirection, opts: TcxOptions = {}): Link {
  return inNetns(opts.netns, () => attachTcxHere(prog, iface, direction, opts), prog.backend);
}

function attachTcxHere(prog: Program, iface: Interface, direction: TcxDirection, opts: TcxOptions): Link {
  const ifindex = ifindexOf(iface, prog.backend);
  const r = linkCreateRaw(prog.backend, {
    progFd: prog.fd,
    targetIfindex: ifindex,
    attachType: direction === 'ingress' ? AttachType.TCX_INGRESS : AttachType.TCX_EGRESS,
    flags: opts.flags ?? 0,
    tcxRelativeFd: opts.relativeFd,
    tcxExpectedRevision: opts.expectedRevision,
  });
  if (r < 0) {
    throw errorFromErrno(r, {
      operation: `attach tcx ${direction} to ${iface}`,
      needsNetAdmin: true,
      hints: {
        EINVAL: 'tcx needs Linux 6.6+ and a sched_cls program loaded with expected attach type TCX_INGRESS/TCX_EGRESS',
        ESTALE: 'the expected revision does not match',
        EEXIST: 'this program is already attached there',
      },
    });
  }
  return new Link(
    r,
    prog.backend,
    `tcx ${direction} ${iface}${opts.netns === undefined ? '' : ` netns ${opts.netns}`}`,
  );
}
