import { type Btf, BtfNotFoundError, memberPath, sizeOf } from 'btf-parser';
import { type Field, type KernelLayout, KernelLayoutError } from './layout.js';

/** Offset and size of the plain (non-bitfield, no pointer hop) member `path` of `struct`. */
export function field(btf: Btf, struct: string, path: string): Field {
  let t;
  try {
    t = btf.typeByName(struct, 'struct');
  } catch (e) {
    throw new KernelLayoutError(`kernel BTF has no struct ${struct}: ${(e as Error).message}`);
  }
  let p;
  try {
    p = memberPath(btf, t, path);
  } catch (e) {
    if (e instanceof BtfNotFoundError)
      throw new KernelLayoutError(`kernel BTF: struct ${struct} has no ${path}: ${e.message}`);
    throw e;
  }
  if (p.loads.length !== 1 || p.bitfieldSize !== 0)
    throw new KernelLayoutError(`kernel BTF: ${struct}.${path} is not a plain member`);
  const load = p.loads[0]!;
  return { offset: load.offset, size: load.size };
}

/** Reads every offset pwru's programs need from a kernel's BTF. */
export function kernelLayoutFromBtf(btf: Btf): KernelLayout {
  const skb = (path: string): Field => field(btf, 'sk_buff', path);
  const hasPtRegs = btf.findType('pt_regs', 'struct') !== undefined;
  let ptRegs: KernelLayout['ptRegs'];
  if (hasPtRegs) {
    try {
      const r = (n: string): Field => field(btf, 'pt_regs', n);
      ptRegs = { args: ['di', 'si', 'dx', 'cx', 'r8'].map(r), sp: r('sp'), ip: r('ip'), ax: r('ax') };
    } catch {
      ptRegs = undefined; // not x86-64: kprobe backends unavailable
    }
  }
  return {
    skbSize: sizeOf(btf, btf.typeByName('sk_buff', 'struct').id),
    skb: {
      len: skb('len'),
      mark: skb('mark'),
      protocol: skb('protocol'),
      dev: skb('dev'),
      sk: skb('sk'),
      head: skb('head'),
      tail: skb('tail'),
      macHeader: skb('mac_header'),
      networkHeader: skb('network_header'),
      macLen: skb('mac_len'),
      innerNetworkHeader: skb('inner_network_header'),
      innerMacHeader: skb('inner_mac_header'),
      refdst: skb('_skb_refdst'),
      cb: skb('cb'),
    },
    netDevice: {
      ifindex: field(btf, 'net_device', 'ifindex'),
      mtu: field(btf, 'net_device', 'mtu'),
      net: field(btf, 'net_device', 'nd_net.net'),
    },
    netInum: field(btf, 'net', 'ns.inum'),
    sockNet: field(btf, 'sock', '__sk_common.skc_net.net'),
    dst: { metrics: field(btf, 'dst_entry', '_metrics'), dev: field(btf, 'dst_entry', 'dev') },
    qdiscCbData: field(btf, 'qdisc_skb_cb', 'data').offset,
    ...(ptRegs ? { ptRegs } : {}),
  };
}
