/**
 * Kernel structure offsets the generated programs need, taken from the running kernel's BTF at
 * generation time (no CO-RE relocations: the program is generated on the machine it runs on).
 */
import { PwruError } from '../errors.js';

/** Where a field sits and how wide it is. */
export interface Field {
  readonly offset: number;
  readonly size: number;
}

/** The offsets pwru's programs read. */
export interface KernelLayout {
  /** `sizeof(struct sk_buff)`. */
  readonly skbSize: number;
  readonly skb: {
    readonly len: Field;
    readonly mark: Field;
    readonly protocol: Field;
    readonly dev: Field;
    readonly sk: Field;
    readonly head: Field;
    readonly tail: Field;
    readonly macHeader: Field;
    readonly networkHeader: Field;
    readonly macLen: Field;
    readonly innerNetworkHeader: Field;
    readonly innerMacHeader: Field;
    readonly refdst: Field;
    readonly cb: Field;
  };
  readonly netDevice: { readonly ifindex: Field; readonly mtu: Field; readonly net: Field };
  /** `struct net` → `ns.inum`. */
  readonly netInum: Field;
  /** `struct sock` → `__sk_common.skc_net.net`. */
  readonly sockNet: Field;
  readonly dst: { readonly metrics: Field; readonly dev: Field };
  /** Offset of `qdisc_skb_cb.data` inside `skb->cb` (what `__sk_buff->cb` exposes). */
  readonly qdiscCbData: number;
  /**
   * x86-64 `struct pt_regs`: the five argument registers, `sp`, `ip` and `ax` (the return value
   * in return probes) (kprobe backends).
   */
  readonly ptRegs?: { readonly args: readonly Field[]; readonly sp: Field; readonly ip: Field; readonly ax: Field };
}

/** A required structure member is missing from the kernel's BTF. */
export class KernelLayoutError extends PwruError {
  override name = 'KernelLayoutError';
}
