/**
 * Opcode fields of the eBPF instruction set (kernel `Documentation/bpf/standardization/instruction-set.rst`).
 *
 * An opcode byte is `class | op | source` for arithmetic and jump classes, and
 * `class | size | mode` for load and store classes. All names here are plain numbers so that
 * `Class.ALU64 | AluOp.ADD | Source.K` reads like the kernel's `BPF_ALU64 | BPF_ADD | BPF_K`.
 */

/** Instruction classes: the low three bits of the opcode. */
export const Class = {
  /** Non-standard loads: LD_IMM64 and the legacy packet loads LD_ABS/LD_IND. */
  LD: 0x00,
  /** Loads into a register from memory. */
  LDX: 0x01,
  /** Stores of an immediate to memory. */
  ST: 0x02,
  /** Stores of a register to memory, and atomics. */
  STX: 0x03,
  /** 32-bit arithmetic. */
  ALU: 0x04,
  /** 64-bit jumps, calls and exit. */
  JMP: 0x05,
  /** 32-bit jumps. */
  JMP32: 0x06,
  /** 64-bit arithmetic. */
  ALU64: 0x07,
} as const;
/** One of the {@link Class} values. */
export type Class = (typeof Class)[keyof typeof Class];

/** Mask selecting the class bits of an opcode. */
export const CLASS_MASK = 0x07;
/** Mask selecting the operation bits of an arithmetic or jump opcode. */
export const OP_MASK = 0xf0;
/** Mask selecting the source bit of an arithmetic or jump opcode. */
export const SOURCE_MASK = 0x08;
/** Mask selecting the size bits of a load/store opcode. */
export const SIZE_MASK = 0x18;
/** Mask selecting the mode bits of a load/store opcode. */
export const MODE_MASK = 0xe0;

/** Operand source of arithmetic and jump instructions. */
export const Source = {
  /** Use the 32-bit immediate as the source operand. */
  K: 0x00,
  /** Use the source register as the source operand. */
  X: 0x08,
} as const;
/** One of the {@link Source} values. */
export type Source = (typeof Source)[keyof typeof Source];

/** Byte-swap direction of the END operation in the ALU class (the source bit). */
export const Endian = {
  /** Convert between host order and little-endian (`le16/32/64`). */
  TO_LE: 0x00,
  /** Convert between host order and big-endian (`be16/32/64`). */
  TO_BE: 0x08,
} as const;
/** One of the {@link Endian} values. */
export type Endian = (typeof Endian)[keyof typeof Endian];

/** Arithmetic operations (ALU and ALU64 classes). */
export const AluOp = {
  ADD: 0x00,
  SUB: 0x10,
  MUL: 0x20,
  /** Unsigned division; signed (`SDIV`) when the offset field is 1. */
  DIV: 0x30,
  OR: 0x40,
  AND: 0x50,
  LSH: 0x60,
  RSH: 0x70,
  NEG: 0x80,
  /** Unsigned modulo; signed (`SMOD`) when the offset field is 1. */
  MOD: 0x90,
  XOR: 0xa0,
  /** Move; sign-extending move (`MOVSX`) when the offset field is 8, 16 or 32. */
  MOV: 0xb0,
  ARSH: 0xc0,
  /** Byte swap: `le`/`be` in the ALU class, unconditional `bswap` in ALU64. */
  END: 0xd0,
} as const;
/** One of the {@link AluOp} values. */
export type AluOp = (typeof AluOp)[keyof typeof AluOp];

/** Jump operations (JMP and JMP32 classes). */
export const JumpOp = {
  /** Unconditional jump: `goto` (JMP, 16-bit offset) or `gotol` (JMP32, 32-bit imm). */
  JA: 0x00,
  JEQ: 0x10,
  JGT: 0x20,
  JGE: 0x30,
  JSET: 0x40,
  JNE: 0x50,
  JSGT: 0x60,
  JSGE: 0x70,
  /** Helper, bpf-to-bpf or kfunc call (JMP class only). */
  CALL: 0x80,
  /** Return from the program or subprogram (JMP class only). */
  EXIT: 0x90,
  JLT: 0xa0,
  JLE: 0xb0,
  JSLT: 0xc0,
  JSLE: 0xd0,
  /** Conditional pseudo jump `may_goto` (JMP class only, kernel 6.9+). */
  JCOND: 0xe0,
} as const;
/** One of the {@link JumpOp} values. */
export type JumpOp = (typeof JumpOp)[keyof typeof JumpOp];

/** Access sizes of load and store instructions. */
export const Size = {
  /** 4 bytes. */
  W: 0x00,
  /** 2 bytes. */
  H: 0x08,
  /** 1 byte. */
  B: 0x10,
  /** 8 bytes. */
  DW: 0x18,
} as const;
/** One of the {@link Size} values. */
export type Size = (typeof Size)[keyof typeof Size];

/** Addressing modes of load and store instructions. */
export const Mode = {
  /** 64-bit immediate load (LD class, DW size only): LD_IMM64. */
  IMM: 0x00,
  /** Legacy packet load at an absolute offset (LD class). */
  ABS: 0x20,
  /** Legacy packet load at a register-relative offset (LD class). */
  IND: 0x40,
  /** Regular memory access. */
  MEM: 0x60,
  /** Sign-extending memory load (LDX class, cpu v4). */
  MEMSX: 0x80,
  /** Atomic read-modify-write (STX class, W and DW sizes), and load-acquire/store-release (any size). */
  ATOMIC: 0xc0,
} as const;
/** One of the {@link Mode} values. */
export type Mode = (typeof Mode)[keyof typeof Mode];

/** Operations of atomic instructions, carried in the immediate field. */
export const AtomicOp = {
  ADD: 0x00,
  OR: 0x40,
  AND: 0x50,
  XOR: 0xa0,
  /** Flag: also return the old value in the source register. */
  FETCH: 0x01,
  /** Exchange (always fetches). */
  XCHG: 0xe0 | 0x01,
  /** Compare against R0 and exchange (always fetches, old value in R0). */
  CMPXCHG: 0xf0 | 0x01,
  /** Load-acquire: `dst = load_acquire((size *)(src + off))`, any size (kernel 6.15+). */
  LOAD_ACQ: 0x100,
  /** Store-release: `store_release((size *)(dst + off), src)`, any size (kernel 6.15+). */
  STORE_REL: 0x110,
} as const;
/** One of the {@link AtomicOp} values (optionally or-ed with FETCH). */
export type AtomicOp = number;

/** Pseudo source registers of the LD_IMM64 instruction: what the 64-bit immediate means. */
export const PseudoLoad = {
  /** A plain 64-bit constant. */
  IMM: 0,
  /** imm is a map file descriptor; the kernel replaces it with the map's address. */
  MAP_FD: 1,
  /** imm is a map fd, next imm an offset into its value (direct value access). */
  MAP_VALUE: 2,
  /** imm is a BTF id of a kernel variable (ksym). */
  BTF_ID: 3,
  /** imm is a relative instruction offset of a subprogram (callback pointer). */
  FUNC: 4,
  /** imm is an index into the program's fd_array of maps. */
  MAP_IDX: 5,
  /** imm is an fd_array index, next imm an offset into the map's value. */
  MAP_IDX_VALUE: 6,
} as const;
/** One of the {@link PseudoLoad} values. */
export type PseudoLoad = (typeof PseudoLoad)[keyof typeof PseudoLoad];

/** Source-register values of the CALL instruction: what kind of function is called. */
export const PseudoCall = {
  /** imm is a helper id (`enum bpf_func_id`). */
  HELPER: 0,
  /** imm is the relative instruction offset of a bpf-to-bpf subprogram. */
  CALL: 1,
  /** imm is a BTF id of a kernel function (kfunc); offset selects the module BTF fd. */
  KFUNC: 2,
} as const;
/** One of the {@link PseudoCall} values. */
export type PseudoCall = (typeof PseudoCall)[keyof typeof PseudoCall];

/** The class bits of an opcode. */
export function opClass(opcode: number): Class {
  return (opcode & CLASS_MASK) as Class;
}

/** True for ALU and ALU64 opcodes. */
export function isAluClass(cls: number): boolean {
  return cls === Class.ALU || cls === Class.ALU64;
}

/** True for JMP and JMP32 opcodes. */
export function isJumpClass(cls: number): boolean {
  return cls === Class.JMP || cls === Class.JMP32;
}

/** The first byte of an LD_IMM64 instruction (`BPF_LD | BPF_DW | BPF_IMM`). */
export const LD_IMM64 = Class.LD | Size.DW | Mode.IMM;

/** Access width in bytes of a {@link Size}. */
export function sizeBytes(size: Size): 1 | 2 | 4 | 8 {
  switch (size) {
    case Size.B:
      return 1;
    case Size.H:
      return 2;
    case Size.W:
      return 4;
    default:
      return 8;
  }
}
