import { readFileSync } from 'node:fs';
import { errorFromErrno, NotFoundError } from '../errors.js';
import type { Program } from '../prog/program.js';
import { Errno } from '../sys/errno.js';
import { AttachType } from '../sys/generated/constants.js';
import { Link, linkCreateRaw } from './link.js';

/** An interface given by index or by name (resolved in the current network namespace's sysfs). */
export type Interface = number | string;

/** The ifindex of an interface name (`/sys/class/net/<name>/ifindex`). */
export function ifindexOf(iface: Interface): number {
  if (typeof iface === 'number') return iface;
  try {
    return Number(readFileSync(`/sys/class/net/${iface}/ifindex`, 'utf8').trim());
  } catch {
    throw new NotFoundError(Errno.ENODEV, `find interface ${iface}`, 'no such network interface');
  }
}

/** XDP attach modes (XDP_FLAGS_*). */
export const XdpMode = { DEFAULT: 0, SKB: 1 << 1, DRIVER: 1 << 2, HW: 1 << 3 } as const;

/** Attaches an XDP program to an interface with a BPF link (5.9+); detached on close. */
export function attachXdp(prog: Program, iface: Interface, opts: { mode?: number } = {}): Link {
  const ifindex = ifindexOf(iface);
  const r = linkCreateRaw(prog.backend, { progFd: prog.fd, targetIfindex: ifindex, attachType: AttachType.XDP, flags: opts.mode ?? 0 });
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
  return new Link(r, prog.backend, `xdp ${iface}`);
}

/** Where a tcx program runs. */
export type TcxDirection = 'ingress' | 'egress';

/** Options of {@link attachTcx}. */
export interface TcxOptions {
  /** Ordering flags (BPF_F_BEFORE, BPF_F_AFTER, BPF_F_ID, BPF_F_LINK). */
  readonly flags?: number;
  /** Program/link fd (or id with BPF_F_ID) the flags are relative to. */
  readonly relativeFd?: number;
  /** Fail unless the attachment revision is this one (0: any). */
  readonly expectedRevision?: bigint;
}

/** Attaches a sched_cls program with tcx (Linux 6.6+): multi-program tc without qdiscs. */
export function attachTcx(prog: Program, iface: Interface, direction: TcxDirection, opts: TcxOptions = {}): Link {
  const ifindex = ifindexOf(iface);
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
  return new Link(r, prog.backend, `tcx ${direction} ${iface}`);
}
