import type { Instruction, LinkedProgram } from 'bpf-asm-ts';
import type { AttachType, ProgramType } from '../sys/generated/constants.js';

/** A reference the loader fills in: `index` is the slot (8-byte instruction) to patch. */
export interface ProgramRelocation {
  /** Slot index, as the verifier counts instructions. */
  readonly index: number;
  /** `map_fd`/`map_value`: imm = map fd; `btf_id`/`kfunc`: imm = BTF id (+ module fd_array index in off). */
  readonly kind: 'map_fd' | 'map_value' | 'btf_id' | 'kfunc' | 'func';
  /** The map, ksym or kfunc name. */
  readonly symbol: string;
  /** For `map_value`, the value offset (already in the second slot). */
  readonly offset?: number;
}

/** A resolved BTF reference: the id for imm, and the fd_array index of a module's BTF. */
export interface BtfReference {
  /** BTF type id. */
  readonly id: number;
  /** Index into fd_array of the module BTF fd (0 = vmlinux). */
  readonly fdArrayIndex?: number;
}

/** Program BTF: a loaded BTF object plus func_info / line_info records. */
export interface ProgramBtf {
  /** fd of the loaded BTF (BPF_BTF_LOAD). */
  readonly fd: number;
  /** func_info records (`struct bpf_func_info`: insn_off u32, type_id u32), back to back. */
  readonly funcInfo?: Uint8Array;
  /** Record size of funcInfo (default 8). */
  readonly funcInfoRecSize?: number;
  /** line_info records (`struct bpf_line_info`, 16 bytes each), back to back. */
  readonly lineInfo?: Uint8Array;
  /** Record size of lineInfo (default 16). */
  readonly lineInfoRecSize?: number;
}

/** Anything with an fd that can stand for a map in a relocation. */
export interface HasFd {
  /** The map's file descriptor. */
  readonly fd: number;
}

/** A description of a program (data only; see {@link Program.load}). */
export interface ProgramSpec {
  /** Name shown by bpftool (15 chars max). */
  readonly name?: string;
  /** {@link ProgramType} value. */
  readonly type: ProgramType;
  /** {@link AttachType} the program will be attached with (required for tracing, cgroup, ...). */
  readonly expectedAttachType?: AttachType;
  /**
   * The code: encoded bytes (8 per slot), a linked program from bpf-asm-ts, or bpf-asm-ts
   * instructions (linked here).
   */
  readonly instructions: Uint8Array | LinkedProgram | readonly Instruction[];
  /** For encoded bytes: references to fill in (a LinkedProgram carries its own). */
  readonly relocations?: readonly ProgramRelocation[];
  /** Maps by symbol name, for `map_fd` / `map_value` relocations. */
  readonly maps?: Readonly<Record<string, HasFd>> | ReadonlyMap<string, HasFd>;
  /** Resolves `btf_id` (ksym) and `kfunc` relocations by name. */
  readonly resolveBtf?: (symbol: string, kind: 'btf_id' | 'kfunc') => BtfReference;
  /** Module BTF fds referenced by kfunc relocations (fd_array; index 0 is unused). */
  readonly fdArray?: readonly number[];
  /** License; GPL-only helpers need a GPL-compatible one. Default `GPL`. */
  readonly license?: string;
  /** BTF type id of the attach target (tp_btf, fentry/fexit, struct_ops, lsm). */
  readonly attachBtfId?: number;
  /** fd of the module BTF holding attachBtfId (absent for vmlinux). */
  readonly attachBtfObjFd?: number;
  /** fd of the target BPF program (fentry/fexit/freplace on a BPF program). */
  readonly attachProgFd?: number;
  /** Program BTF with func_info/line_info. */
  readonly btf?: ProgramBtf;
  /** BPF_F_* program flags (e.g. sleepable). */
  readonly flags?: number;
  /** kern_version (only checked for kprobes on very old kernels). */
  readonly kernVersion?: number;
  /** For encoded bytes: the generator's comment per slot, used in verifier error messages. */
  readonly comments?: ReadonlyArray<string | undefined> | ((slot: number) => string | undefined);
}
