import { Add, And, call, Helper, Mov, R1, R2, R3, R7, R8, R9, StoreImm, StoreMem } from 'bpf-asm-ts';
import type { Emitter } from '../generate/emitter.js';
import type { CtFields } from './fields.js';
import { CT, CT_TUPLE, CtFlags } from './section.js';

/** `_nfct`'s low bits hold `enum ip_conntrack_info` (NFCT_INFOMASK). */
const INFO_MASK = 7;

/**
 * Fills the ct section at `base` of the event in r8 from the skb in r7: `_nfct`, then the
 * `nf_conn` fields, each read by `bpf_probe_read_kernel` straight into the event. Leaves the
 * section zero (absent) when the skb has no conntrack reference. Clobbers r0-r5 and r9.
 */
export function emitCt(e: Emitter, ct: CtFields, scratch: number, base: number): void {
  e.section('event: --output-ct (skb->_nfct and its struct nf_conn)');
  const done = e.fresh('ct_done');
  const read = (at: number, size: number, srcOff: number): void => {
    e.emit(
      Mov.reg(R1, R8),
      Add.imm(R1, base + at),
      Mov.imm(R2, size),
      Mov.reg(R3, R9),
      Add.imm(R3, srcOff),
      call(Helper.probe_read_kernel),
    );
  };
  e.readKernel(R9, R7, ct.nfct, 8, scratch);
  e.ifZero(R9, done);
  e.emit(Mov.reg(R1, R9), And.imm(R1, INFO_MASK), StoreMem(R8, base + CT.info, R1, 'u8'));
  const flags =
    CtFlags.present | (ct.mark !== undefined ? CtFlags.mark : 0) | (ct.zone !== undefined ? CtFlags.zone : 0);
  e.emit(StoreImm(R8, base + CT.flags, flags, 'u8'));
  e.emit(And.imm(R9, ~INFO_MASK), StoreMem(R8, base + CT.addr, R9, 'u64'));
  e.ifZero(R9, done); // UNTRACKED: info bits only
  read(CT.status, 8, ct.status);
  if (ct.mark !== undefined) read(CT.mark, 4, ct.mark);
  if (ct.zone !== undefined) read(CT.zone, 2, ct.zone);
  for (const [i, at] of [CT.orig, CT.reply].entries()) {
    const t = ct.tuples[i]!;
    read(at + CT_TUPLE.saddr, 16, t + ct.tuple.srcU3);
    read(at + CT_TUPLE.daddr, 16, t + ct.tuple.dstU3);
    read(at + CT_TUPLE.sport, 2, t + ct.tuple.srcAll);
    read(at + CT_TUPLE.dport, 2, t + ct.tuple.dstAll);
    read(at + CT_TUPLE.l3num, 2, t + ct.tuple.l3num);
    read(at + CT_TUPLE.proto, 1, t + ct.tuple.protonum);
  }
  e.label(done);
}
