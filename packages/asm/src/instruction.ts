import { BuilderError } from './errors.js';
import { formatInstruction } from './text/printer.js';
import { AluOp, Class, CLASS_MASK, JumpOp, LD_IMM64, OP_MASK, PseudoCall, PseudoLoad } from './opcode.js';
import type { Register } from './register.js';

/** Optional metadata carried by an {@link Instruction}; it never changes the encoding. */
export interface InstructionMetadata {
  /** Label defined at this instruction (a jump target, or a subprogram's name on its first instruction). */
  readonly symbol?: string | undefined;
  /** Further labels defined at the same instruction (several jump targets meeting at one spot). */
  readonly aliases?: readonly string[] | undefined;
  /**
   * Symbol this instruction refers to, resolved by {@link link} or left for the loader:
   * a jump target label, a bpf-to-bpf call target, a map name (LD_IMM64 map fd/value),
   * a BTF or kfunc name.
   */
  readonly reference?: string | undefined;
  /** Free-form provenance ("pcap filter, L3, insn 12"); printed as a comment, kept per slot by {@link link}. */
  readonly comment?: string | undefined;
}

/** Normalized metadata as instructions store it; shared between copies instead of re-built. */
class Metadata implements InstructionMetadata {
  constructor(
    readonly symbol: string | undefined,
    readonly aliases: readonly string[] | undefined,
    readonly reference: string | undefined,
    readonly comment: string | undefined,
  ) {}
}

function normalizeMetadata(meta: InstructionMetadata | undefined): InstructionMetadata | undefined {
  if (meta === undefined || meta instanceof Metadata) return meta;
  const { symbol, reference, comment } = meta;
  const aliases = meta.aliases !== undefined && meta.aliases.length > 0 ? meta.aliases : undefined;
  if (symbol === undefined && aliases === undefined && reference === undefined && comment === undefined)
    return undefined;
  if (aliases !== undefined && symbol === undefined) throw new BuilderError('instruction aliases need a symbol');
  return new Metadata(symbol, aliases === undefined ? undefined : [...aliases], reference, comment);
}

/**
 * One logical eBPF instruction. Immutable: the `with*` methods return a copy.
 *
 * Fields follow `struct bpf_insn`. LD_IMM64 is one `Instruction` occupying two 8-byte slots; its
 * full 64-bit value is {@link constant} (a signed bigint), and {@link imm} is its low 32 bits.
 */
export class Instruction implements InstructionMetadata {
  /** The opcode byte. */
  readonly opcode: number;
  /** Destination register (0-10). */
  readonly dst: Register;
  /** Source register (0-10), or the pseudo source of CALL and LD_IMM64. */
  readonly src: Register;
  /** Signed 16-bit offset. */
  readonly offset: number;
  /** Signed 32-bit immediate (for LD_IMM64, the low 32 bits of {@link constant}). */
  readonly imm: number;
  /** The signed 64-bit immediate of LD_IMM64; `undefined` for every other instruction. */
  readonly constant: bigint | undefined;
  /** The metadata, `undefined` when the instruction has none (kept in one object to keep instructions small). */
  readonly meta: InstructionMetadata | undefined;

  /**
   * Build an instruction from raw fields. For LD_IMM64 pass `constant` (the 64-bit value) and
   * `imm` is derived from it; if `constant` is omitted it is `imm` sign-extended.
   * Field ranges are checked by {@link encode}, not here.
   */
  constructor(
    opcode: number,
    dst: Register,
    src: Register,
    offset: number,
    imm: number,
    constant?: bigint,
    meta?: InstructionMetadata,
  ) {
    this.opcode = opcode;
    this.dst = dst;
    this.src = src;
    this.offset = offset;
    if (opcode === LD_IMM64) {
      const c = constant === undefined ? BigInt(imm | 0) : BigInt.asIntN(64, constant);
      this.constant = c;
      this.imm = Number(BigInt.asIntN(32, c));
    } else {
      this.constant = undefined;
      this.imm = imm;
    }
    this.meta = meta === undefined ? undefined : normalizeMetadata(meta);
  }

  /** {@inheritDoc InstructionMetadata.symbol} */
  get symbol(): string | undefined {
    return this.meta?.symbol;
  }

  /** {@inheritDoc InstructionMetadata.aliases} */
  get aliases(): readonly string[] | undefined {
    return this.meta?.aliases;
  }

  /** Every label defined at this instruction: the symbol, then its aliases. */
  get labels(): readonly string[] {
    const m = this.meta;
    if (m?.symbol === undefined) return [];
    return m.aliases === undefined ? [m.symbol] : [m.symbol, ...m.aliases];
  }

  /** {@inheritDoc InstructionMetadata.reference} */
  get reference(): string | undefined {
    return this.meta?.reference;
  }

  /** {@inheritDoc InstructionMetadata.comment} */
  get comment(): string | undefined {
    return this.meta?.comment;
  }

  /** Number of 8-byte slots: 2 for LD_IMM64, otherwise 1. */
  get slots(): 1 | 2 {
    return this.opcode === LD_IMM64 ? 2 : 1;
  }

  /** The instruction class. */
  get class(): Class {
    return (this.opcode & CLASS_MASK) as Class;
  }

  /** True for the 16-byte 64-bit immediate load. */
  get isLoadImm64(): boolean {
    return this.opcode === LD_IMM64;
  }

  /** The second slot's immediate of LD_IMM64 (high 32 bits of {@link constant}); 0 otherwise. */
  get immHigh(): number {
    return this.constant === undefined ? 0 : Number(BigInt.asIntN(32, this.constant >> 32n));
  }

  /** True for conditional and unconditional jumps (not calls, exit). */
  get isJump(): boolean {
    const cls = this.opcode & CLASS_MASK;
    if (cls !== Class.JMP && cls !== Class.JMP32) return false;
    const op = this.opcode & OP_MASK;
    return op !== JumpOp.CALL && op !== JumpOp.EXIT;
  }

  /** True for `gotol` (JMP32 JA): the target is in `imm` instead of `offset`. */
  get isLongJump(): boolean {
    return this.opcode === (Class.JMP32 | JumpOp.JA);
  }

  /** True for any CALL (helper, bpf-to-bpf or kfunc). */
  get isCall(): boolean {
    return this.opcode === (Class.JMP | JumpOp.CALL);
  }

  /** True for a helper call. */
  get isHelperCall(): boolean {
    return this.isCall && this.src === PseudoCall.HELPER;
  }

  /** True for a bpf-to-bpf call. */
  get isFunctionCall(): boolean {
    return this.isCall && this.src === PseudoCall.CALL;
  }

  /** True for a kfunc call. */
  get isKfuncCall(): boolean {
    return this.isCall && this.src === PseudoCall.KFUNC;
  }

  /** True for EXIT. */
  get isExit(): boolean {
    return this.opcode === (Class.JMP | JumpOp.EXIT);
  }

  /** True for LD_IMM64 loading a subprogram address (callback). */
  get isFunctionPointer(): boolean {
    return this.opcode === LD_IMM64 && this.src === PseudoLoad.FUNC;
  }

  /** True for a 64-bit `mov` (`ALU64 | MOV`), handy for peephole checks. */
  get isMov64(): boolean {
    return (this.opcode & ~0x08) === (Class.ALU64 | AluOp.MOV);
  }

  /** A copy that defines `symbol` as the label at this instruction (replacing the symbol; aliases are kept). */
  withSymbol(symbol: string | undefined): Instruction {
    return this.withMetadata(symbol === undefined ? { symbol, aliases: undefined } : { symbol });
  }

  /**
   * A copy that also defines `label` here: it becomes the symbol if there is none, otherwise an
   * alias. Use it when several jump targets meet at one instruction.
   */
  withLabel(label: string): Instruction {
    if (this.symbol === undefined) return this.withMetadata({ symbol: label });
    if (this.symbol === label || this.aliases?.includes(label)) return this;
    return this.withMetadata({ aliases: [...(this.aliases ?? []), label] });
  }

  /** A copy referring to `reference` (label, function, map or BTF name). */
  withReference(reference: string | undefined): Instruction {
    return this.withMetadata({ reference });
  }

  /** A copy carrying `comment` as provenance. */
  withComment(comment: string | undefined): Instruction {
    return this.withMetadata({ comment });
  }

  /** A copy with some metadata replaced (keys present in `meta` win, even when `undefined`). */
  withMetadata(meta: InstructionMetadata): Instruction {
    return new Instruction(this.opcode, this.dst, this.src, this.offset, this.imm, this.constant, {
      symbol: 'symbol' in meta ? meta.symbol : this.symbol,
      aliases: 'aliases' in meta ? meta.aliases : this.aliases,
      reference: 'reference' in meta ? meta.reference : this.reference,
      comment: 'comment' in meta ? meta.comment : this.comment,
    });
  }

  /** A copy with some encoding fields replaced (metadata kept). */
  withFields(fields: {
    opcode?: number;
    dst?: Register;
    src?: Register;
    offset?: number;
    imm?: number;
    constant?: bigint;
  }): Instruction {
    const opcode = fields.opcode ?? this.opcode;
    let constant = fields.constant ?? this.constant;
    if (fields.imm !== undefined && fields.constant === undefined && constant !== undefined) {
      // Replace only the low 32 bits of the 64-bit immediate.
      constant = (BigInt.asIntN(32, constant >> 32n) << 32n) | BigInt(fields.imm >>> 0);
    }
    return new Instruction(
      opcode,
      fields.dst ?? this.dst,
      fields.src ?? this.src,
      fields.offset ?? this.offset,
      fields.imm ?? this.imm,
      constant,
      this.meta,
    );
  }

  /** The instruction in LLVM syntax (`r0 = *(u32 *)(r1 + 8)`), references by name. */
  toString(): string {
    return formatInstruction(this);
  }

  /** True if both instructions encode to the same bytes (metadata ignored). */
  equals(other: Instruction): boolean {
    return (
      this.opcode === other.opcode &&
      this.dst === other.dst &&
      this.src === other.src &&
      this.offset === other.offset &&
      this.imm === other.imm &&
      this.constant === other.constant
    );
  }
}

/** Total number of 8-byte slots of a list of instructions. */
export function slotCount(insns: readonly Instruction[]): number {
  let n = 0;
  for (const insn of insns) n += insn.opcode === LD_IMM64 ? 2 : 1;
  return n;
}
