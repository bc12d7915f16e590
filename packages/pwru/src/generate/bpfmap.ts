/**
 * `--output-bpfmap`: the kernel side. A program on a bpf map function (`htab_map_update_elem`,
 * `bpf_map_lookup_elem`...: first argument `struct bpf_map *`, second the key, third the value of
 * an update) copies the map's id, name, key and value sizes and the key — and, for an update, the
 * value — into the event's bpfmap section ({@link BPFMAP}). A lookup's value exists only when the
 * function returns: its entry event is parked in the `--output-return` entry map instead of being
 * submitted, and the return program ({@link emitBpfMapReturnValue}) adds the value the returned
 * pointer points at and submits it.
 *
 * Each copy is `bpf_probe_read_kernel(record + off, min(size, 256), src)`, with the size bounded
 * by a compare the Linux 6.1 verifier tracks.
 */
import {
  Add,
  call,
  Helper,
  JEq,
  JLE,
  JNE,
  LoadMem,
  Mov,
  R0,
  R1,
  R2,
  R3,
  R6,
  R8,
  R9,
  type Register,
  StoreImm,
} from 'bpf-asm-ts';
import type { Btf } from 'btf-parser';
import { BPFMAP, BPFMAP_MAX_DATA } from '../event.js';
import { field } from './btf-layout.js';
import type { Emitter } from './emitter.js';
import type { Field } from './layout.js';

/** Offsets of the `struct bpf_map` members the programs read. */
export interface BpfMapFields {
  readonly id: Field;
  readonly name: Field;
  readonly keySize: Field;
  readonly valueSize: Field;
}

/** The `struct bpf_map` offsets of a kernel, from its BTF. */
export function bpfMapFields(btf: Btf): BpfMapFields {
  const f = (p: string): Field => field(btf, 'bpf_map', p);
  return { id: f('id'), name: f('name'), keySize: f('key_size'), valueSize: f('value_size') };
}

/** What a bpf map function does with its map: the value is read at entry (update), at return (lookup) or not at all (delete). */
export type BpfMapOp = 'update' | 'lookup' | 'delete';

/** The operation of a bpf map function, by name (as upstream: `*update_elem`, `*lookup_elem`, `*delete_elem`). */
export function bpfMapOp(fn: string): BpfMapOp | undefined {
  if (fn.includes('update_elem')) return 'update';
  if (fn.includes('lookup_elem')) return 'lookup';
  if (fn.includes('delete_elem')) return 'delete';
  return undefined;
}

/** How the entry program reads argument `i` (0-based): `pt_regs` offsets for kprobes, else `ctx[i]`. */
export type ArgSource = { readonly kind: 'regs'; readonly args: readonly Field[] } | { readonly kind: 'ctx' };

function loadArg(e: Emitter, src: ArgSource, dst: Register, i: number): void {
  e.emit(LoadMem(dst, R6, src.kind === 'regs' ? src.args[i]!.offset : i * 8, 'u64'));
}

/** `bpf_probe_read_kernel(r8 + dst, size, src + srcOff)` for a constant size; clobbers r0-r5. */
function readInto(e: Emitter, dst: number, size: number, src: Register, srcOff: number): void {
  e.emit(
    Mov.reg(R3, src),
    Add.imm(R3, srcOff),
    Mov.reg(R1, R8),
    Add.imm(R1, dst),
    Mov.imm(R2, size),
    call(Helper.probe_read_kernel),
  );
}

/**
 * `bpf_probe_read_kernel(r8 + dst, min(*(u32 *)(r8 + sizeAt), 256), r3)`, then marks the value
 * read when `hasValue` is given; `r3` must hold the source. Clobbers r0-r5.
 */
function readBounded(e: Emitter, dst: number, sizeAt: number, hasValue?: number): void {
  const capped = e.fresh('bpfmap_capped');
  e.emit(LoadMem(R2, R8, sizeAt, 'u32'), JLE.imm(R2, BPFMAP_MAX_DATA, capped), Mov.imm(R2, BPFMAP_MAX_DATA));
  e.label(capped);
  e.emit(Mov.reg(R1, R8), Add.imm(R1, dst), call(Helper.probe_read_kernel));
  if (hasValue !== undefined) {
    const failed = e.fresh('bpfmap_unread');
    e.emit(JNE.imm(R0, 0, failed), StoreImm(R8, hasValue, 1, 'u32'));
    e.label(failed);
  }
}

/**
 * In an entry program, once the record (r8) is reserved and zeroed (r6 = context): the map's
 * id, name and sizes, the key, and for an update the value. Clobbers r0-r5 and r9.
 */
export function emitBpfMapEntry(
  e: Emitter,
  op: BpfMapOp,
  fields: BpfMapFields,
  args: ArgSource,
  section: number,
): void {
  e.section(`event: --output-bpfmap (${op})`);
  const done = e.fresh('bpfmap_done');
  loadArg(e, args, R9, 0);
  e.emit(JEq.imm(R9, 0, done));
  readInto(e, section + BPFMAP.id, 4, R9, fields.id.offset);
  readInto(e, section + BPFMAP.keySize, 4, R9, fields.keySize.offset);
  readInto(e, section + BPFMAP.valueSize, 4, R9, fields.valueSize.offset);
  readInto(e, section + BPFMAP.name, 16, R9, fields.name.offset);
  loadArg(e, args, R3, 1);
  readBounded(e, section + BPFMAP.key, section + BPFMAP.keySize);
  if (op === 'update') {
    loadArg(e, args, R3, 2);
    readBounded(e, section + BPFMAP.value, section + BPFMAP.valueSize, section + BPFMAP.hasValue);
  }
  e.label(done);
}

/**
 * In the return program of a lookup (r8 = the new record, a copy of the parked entry event;
 * r9 = the returned value pointer): the value it points at, when the lookup found one.
 * Clobbers r0-r5.
 */
export function emitBpfMapReturnValue(e: Emitter, section: number): void {
  e.section('event: --output-bpfmap lookup value (the returned pointer)');
  const none = e.fresh('bpfmap_no_value');
  e.emit(JEq.imm(R9, 0, none), Mov.reg(R3, R9));
  readBounded(e, section + BPFMAP.value, section + BPFMAP.valueSize, section + BPFMAP.hasValue);
  e.label(none);
}
