/**
 * `--output-netfilter` in the kernel. The entry program of a table walker (a kprobe on
 * `ipt_do_table`, `ip6t_do_table` or `nft_do_chain`), once its filters passed and its event is
 * built, fills the netfilter section from the arguments, parks the event in the return map under
 * (pid_tgid, {@link NF_KEY_TAG}, stack pointer) and discards it; the kretprobe finds it, adds the
 * verdict and submits it. One event per table evaluated, carrying its verdict.
 *
 * The key uses a constant tag where `--output-return` uses the function address, so kernels
 * without `bpf_get_func_ip` (5.10) work: the stack pointer tells calls apart, nested ones
 * (a REJECT's reset traversing OUTPUT inside INPUT) included.
 */
import {
  Add,
  call,
  exit,
  Helper,
  type Instruction,
  LoadMapPtr,
  LoadMem,
  Mov,
  R0,
  R1,
  R10,
  R2,
  R3,
  R4,
  R6,
  R7,
  R8,
  R9,
  StoreImm,
  StoreMem,
} from 'bpf-asm-ts';
import { HEADER, type EventLayout } from '../event.js';
import { Emitter } from '../generate/emitter.js';
import type { Field } from '../generate/layout.js';
import { emitReserve } from '../generate/reserve.js';
import { RETURN_KEY_SIZE, RETURN_MAP, RETURN_SCRATCH_MAP } from '../generate/return.js';
import type { NetfilterFields, NfFunc, NfPointer } from './fields.js';
import { NF, NfFlags } from './section.js';

/** The key's second word for netfilter calls (no function address can be 1). */
export const NF_KEY_TAG = 1;

/** Loads pointer `p` into `dst` from the kprobe's registers (r6 = pt_regs); 0 when unreadable. */
function loadPointer(e: Emitter, dst: typeof R9, p: NfPointer, args: readonly Field[], scratch: number): void {
  e.emit(LoadMem(dst, R6, args[p.arg]!.offset, 'u64'));
  if (p.member !== undefined) e.readKernel(dst, dst, p.member, 8, scratch);
}

/**
 * The end of a walker's entry program (r6 = pt_regs, r8 = the built record): fill the section at
 * `base`, park the record, discard it. `keyAt` is 32 free bytes of stack. Ends the program.
 */
export function emitNetfilterEntry(
  e: Emitter,
  fn: NfFunc,
  f: NetfilterFields,
  regs: { readonly args: readonly Field[]; readonly sp: Field },
  o: {
    readonly base: number;
    readonly scratch: number;
    readonly keyAt: number;
    readonly size: number;
    readonly out: string;
  },
): Instruction[] {
  const { base, scratch, keyAt } = o;
  /** `bpf_probe_read_kernel_str(record + base + at, NF.nameSize, r3)`. */
  const readStr = (at: number): void => {
    e.emit(Mov.reg(R1, R8), Add.imm(R1, base + at), Mov.imm(R2, NF.nameSize), call(Helper.probe_read_kernel_str));
  };
  e.section(`event: --output-netfilter (${fn.name}: hook state, table${fn.nftChain ? ' and chain' : ''})`);
  e.emit(StoreImm(R8, base + NF.engine, fn.engine, 'u8'), StoreImm(R8, base + NF.flags, NfFlags.present, 'u8'));
  const names = e.fresh('nf_names');
  loadPointer(e, R9, fn.state, regs.args, scratch);
  e.ifZero(R9, names);
  e.readKernel(R1, R9, f.hook.offset, f.hook.size, scratch);
  e.emit(StoreMem(R8, base + NF.hook, R1, 'u8'));
  e.readKernel(R1, R9, f.pf.offset, f.pf.size, scratch);
  e.emit(StoreMem(R8, base + NF.pf, R1, 'u8'));
  e.label(names);
  const park = e.fresh('nf_park');
  if (fn.xtTable) {
    e.emit(LoadMem(R3, R6, regs.args[fn.xtTable.arg]!.offset, 'u64'));
    e.ifZero(R3, park);
    e.emit(Add.imm(R3, fn.xtTable.name));
    readStr(NF.table);
  } else if (fn.nftChain) {
    const c = fn.nftChain;
    e.emit(LoadMem(R9, R6, regs.args[c.arg]!.offset, 'u64'));
    e.ifZero(R9, park);
    e.readKernel(R3, R9, c.name, 8, scratch);
    readStr(NF.chain);
    e.readKernel(R3, R9, c.table, 8, scratch);
    e.ifZero(R3, park);
    e.readKernel(R3, R3, c.tableName, 8, scratch);
    readStr(NF.table);
  }
  e.label(park);
  e.section('--output-netfilter: park the record for the kretprobe, which submits it with the verdict');
  const discard = e.fresh('nf_discard');
  e.emit(call(Helper.get_current_pid_tgid), StoreMem(R10, keyAt, R0, 'u64'));
  e.emit(StoreImm(R10, keyAt + 8, NF_KEY_TAG, 'u64'));
  e.emit(LoadMem(R1, R6, regs.sp.offset, 'u64'), StoreMem(R10, keyAt + 16, R1, 'u64'));
  e.emit(StoreImm(R10, keyAt + 24, 0, 'u32'));
  e.emit(
    LoadMapPtr(R1, RETURN_SCRATCH_MAP),
    Mov.reg(R2, R10),
    Add.imm(R2, keyAt + 24),
    call(Helper.map_lookup_elem),
    Mov.reg(R9, R0),
  );
  e.ifZero(R9, discard);
  for (let off = 0; off < o.size; off += 8) e.emit(LoadMem(R1, R8, off, 'u64'), StoreMem(R9, off, R1, 'u64'));
  e.emit(
    LoadMapPtr(R1, RETURN_MAP),
    Mov.reg(R2, R10),
    Add.imm(R2, keyAt),
    Mov.reg(R3, R9),
    Mov.imm(R4, 0),
    call(Helper.map_update_elem),
  );
  e.label(discard);
  e.emit(Mov.reg(R1, R8), Mov.imm(R2, 0), call(Helper.ringbuf_discard));
  e.label(o.out);
  e.ret(0);
  return e.insns;
}

/**
 * The kretprobe of every walker: looks up the parked record by (pid_tgid, tag, entry stack
 * pointer = return stack pointer - 8), copies it into a new ring-buffer record with the verdict
 * (`rax`) and the return's time and CPU (the entry's kept in the section), submits it and forgets
 * the entry.
 */
export function generateNetfilterReturn(o: {
  readonly layout: EventLayout;
  readonly regs: { readonly sp: Field; readonly ax: Field };
  readonly eventsMap: string;
  readonly lostMap: string;
}): Instruction[] {
  const base = o.layout.netfilter;
  if (base < 0) throw new RangeError('the netfilter return program needs the netfilter section');
  const e = new Emitter('pwru_nf_ret');
  const key = -RETURN_KEY_SIZE;
  const scratch = key - 8;
  e.section('key: pid_tgid, netfilter tag, entry stack pointer');
  e.emit(Mov.reg(R6, R1));
  e.emit(call(Helper.get_current_pid_tgid), StoreMem(R10, key, R0, 'u64'));
  e.emit(StoreImm(R10, key + 8, NF_KEY_TAG, 'u64'));
  e.emit(LoadMem(R1, R6, o.regs.sp.offset, 'u64'), Add.imm(R1, -8), StoreMem(R10, key + 16, R1, 'u64'));
  e.emit(LoadMem(R9, R6, o.regs.ax.offset, 'u64'));
  e.emit(LoadMapPtr(R1, RETURN_MAP), Mov.reg(R2, R10), Add.imm(R2, key), call(Helper.map_lookup_elem), Mov.reg(R7, R0));
  e.ifZero(R7, 'out');
  const forget = e.fresh('forget');
  emitReserve(e, { eventsMap: o.eventsMap, lostMap: o.lostMap, size: o.layout.size, scratch, onFailure: forget });
  e.section('event: the parked record, with the verdict');
  for (let off = 0; off < o.layout.size; off += 8) e.emit(LoadMem(R1, R7, off, 'u64'), StoreMem(R8, off, R1, 'u64'));
  e.emit(LoadMem(R1, R8, HEADER.ts, 'u64'), StoreMem(R8, base + NF.entryTs, R1, 'u64'));
  e.emit(LoadMem(R1, R8, HEADER.cpu, 'u32'), StoreMem(R8, base + NF.entryCpu, R1, 'u32'));
  e.emit(call(Helper.ktime_get_ns), StoreMem(R8, HEADER.ts, R0, 'u64'));
  e.emit(call(Helper.get_smp_processor_id), StoreMem(R8, HEADER.cpu, R0, 'u32'));
  e.emit(StoreMem(R8, base + NF.verdict, R9, 'u32'));
  e.emit(StoreImm(R8, base + NF.flags, NfFlags.present | NfFlags.returned, 'u8'));
  e.emit(Mov.reg(R1, R8), Mov.imm(R2, 0), call(Helper.ringbuf_submit));
  e.label(forget);
  e.emit(LoadMapPtr(R1, RETURN_MAP), Mov.reg(R2, R10), Add.imm(R2, key), call(Helper.map_delete_elem));
  e.label('out');
  e.emit(Mov.imm(R0, 0), exit());
  return e.insns;
}
