import { BusyError } from '../errors.js';
import type { Program } from '../prog/program.js';
import { NetlinkMessage, NlFlag, rtnetlinkRequest } from './netlink.js';
import { ifindexOf, type Interface, type NetnsOption, type TcxDirection } from './netdev.js';
import { inNetns, type Netns } from './netns.js';

const RTM_NEWQDISC = 36;
const RTM_NEWTFILTER = 44;
const RTM_DELTFILTER = 45;
const TCA_KIND = 1;
const TCA_OPTIONS = 2;
const TCA_BPF_FD = 6;
const TCA_BPF_NAME = 7;
const TCA_BPF_FLAGS = 8;
const TCA_BPF_FLAG_ACT_DIRECT = 1;
const TC_H_CLSACT = 0xffff_fff1;
const TC_H_MIN_INGRESS = 0xfff2;
const TC_H_MIN_EGRESS = 0xfff3;
const ETH_P_ALL_BE = 0x0300; // htons(ETH_P_ALL)

function tcmsg(ifindex: number, handle: number, parent: number, info: number): Uint8Array {
  const b = new Uint8Array(20);
  const v = new DataView(b.buffer);
  v.setInt32(4, ifindex, true);
  v.setUint32(8, handle >>> 0, true);
  v.setUint32(12, parent >>> 0, true);
  v.setUint32(16, info >>> 0, true);
  return b;
}

/** Options of {@link attachTcLegacy}. */
export interface TcLegacyOptions extends NetnsOption {
  /** Filter priority (default 1). */
  readonly priority?: number;
  /** Filter handle (default 1). */
  readonly handle?: number;
  /** Name shown by `tc filter show` (default: the program's name). */
  readonly name?: string;
}

/**
 * A cls_bpf filter in direct-action mode under a clsact qdisc. Unlike links it is not an fd:
 * close() deletes it, but if the process dies first it stays (delete it with
 * `tc filter del dev IF ingress`). Prefer {@link attachTcx} on Linux 6.6+.
 */
export class TcFilter implements Disposable {
  #attached = true;
  constructor(
    private readonly prog: Program,
    /** Interface index. */
    readonly ifindex: number,
    /** ingress or egress. */
    readonly direction: TcxDirection,
    /** Priority. */
    readonly priority: number,
    /** Handle. */
    readonly handle: number,
    /** The network namespace it was attached in (close() deletes it there), or undefined for the caller's. */
    readonly netns?: Netns,
  ) {}

  /** What is attached where. */
  get target(): string {
    const where = this.netns === undefined ? '' : ` netns ${this.netns}`;
    return `tc ${this.direction} ifindex ${this.ifindex}${where} prio ${this.priority} handle ${this.handle}`;
  }

  /** Deletes the filter. Idempotent. */
  close(): void {
    if (!this.#attached) return;
    this.#attached = false;
    const parent =
      this.direction === 'ingress'
        ? (TC_H_CLSACT & 0xffff0000) | TC_H_MIN_INGRESS
        : (TC_H_CLSACT & 0xffff0000) | TC_H_MIN_EGRESS;
    const msg = new NetlinkMessage(
      RTM_DELTFILTER,
      NlFlag.REQUEST | NlFlag.ACK,
      tcmsg(this.ifindex, this.handle, parent, (this.priority << 16) | ETH_P_ALL_BE),
    ).str(TCA_KIND, 'bpf');
    inNetns(
      this.netns,
      () => rtnetlinkRequest(this.prog.backend, msg, { operation: `delete ${this.target}`, needsNetAdmin: true }),
      this.prog.backend,
    );
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Attaches a sched_cls program as a direct-action cls_bpf filter, creating clsact if needed. */
export function attachTcLegacy(
  prog: Program,
  iface: Interface,
  direction: TcxDirection,
  opts: TcLegacyOptions = {},
): TcFilter {
  return inNetns(opts.netns, () => attachTcLegacyHere(prog, iface, direction, opts), prog.backend);
}

function attachTcLegacyHere(prog: Program, iface: Interface, direction: TcxDirection, opts: TcLegacyOptions): TcFilter {
  const b = prog.backend;
  const ifindex = ifindexOf(iface, b);
  const qdisc = new NetlinkMessage(
    RTM_NEWQDISC,
    NlFlag.REQUEST | NlFlag.ACK | NlFlag.CREATE | NlFlag.EXCL,
    tcmsg(ifindex, 0xffff_0000, TC_H_CLSACT, 0),
  ).str(TCA_KIND, 'clsact');
  try {
    rtnetlinkRequest(b, qdisc, { operation: `add clsact qdisc to ${iface}`, needsNetAdmin: true });
  } catch (e) {
    if (!(e instanceof BusyError)) throw e; // EEXIST: it is already there
  }
  const priority = opts.priority ?? 1;
  const handle = opts.handle ?? 1;
  const parent = (TC_H_CLSACT & 0xffff0000) | (direction === 'ingress' ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
  const filter = new NetlinkMessage(
    RTM_NEWTFILTER,
    NlFlag.REQUEST | NlFlag.ACK | NlFlag.CREATE | NlFlag.EXCL,
    tcmsg(ifindex, handle, parent, (priority << 16) | ETH_P_ALL_BE),
  )
    .str(TCA_KIND, 'bpf')
    .nested(TCA_OPTIONS, (m) => {
      m.u32(TCA_BPF_FD, prog.fd)
        .str(TCA_BPF_NAME, opts.name ?? (prog.name || 'bpf-loader-ts'))
        .u32(TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
    });
  rtnetlinkRequest(b, filter, {
    operation: `attach tc ${direction} filter to ${iface}`,
    needsNetAdmin: true,
    hints: {
      EEXIST: `a filter with priority ${priority} and handle ${handle} exists; pick another`,
      EINVAL: 'the program must be of type sched_cls (or sched_act)',
    },
  });
  return new TcFilter(prog, ifindex, direction, priority, handle, opts.netns);
}
