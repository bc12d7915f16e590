/** Typed errors of bpf-asm-ts. Every error extends {@link AsmError} and has a one-line message. */

/** Base class of every error thrown by this package. */
export class AsmError extends Error {
  override name = 'AsmError';
}

/** What is wrong with an instruction that does not encode or decode. */
export type InstructionProblemKind =
  | 'opcode' // unknown or unsupported opcode
  | 'register' // a register field above 10
  | 'reserved' // a field the opcode reserves is not zero (or not an allowed value)
  | 'range' // a field value outside its bit width
  | 'truncated' // an LD_IMM64 whose second slot is missing
  | 'misaligned'; // a byte length that is not a multiple of 8

/** An instruction is not valid eBPF: the error names its slot index and the problem. */
export class InvalidInstructionError extends AsmError {
  override name = 'InvalidInstructionError';
  /** Slot index (8-byte unit) of the offending instruction. */
  readonly index: number;
  /** Machine-readable kind of the problem. */
  readonly kind: InstructionProblemKind;
  constructor(index: number, kind: InstructionProblemKind, detail: string) {
    super(`instruction ${index}: ${detail}`);
    this.index = index;
    this.kind = kind;
  }
}

/** Bytes could not be decoded into instructions. */
export class DecodeError extends InvalidInstructionError {
  override name = 'DecodeError';
}

/** Instructions could not be encoded into bytes. */
export class EncodeError extends InvalidInstructionError {
  override name = 'EncodeError';
}

/** A builder was called with an argument it cannot encode (bad register, size, immediate...). */
export class BuilderError extends AsmError {
  override name = 'BuilderError';
}

/** A helper name or id that is not in the kernel's `enum bpf_func_id`. */
export class UnknownHelperError extends AsmError {
  override name = 'UnknownHelperError';
  /** The name or id that was looked up. */
  readonly helper: string | number;
  constructor(helper: string | number) {
    super(`unknown BPF helper ${typeof helper === 'number' ? `id ${helper}` : `'${helper}'`}`);
    this.helper = helper;
  }
}

/** Base class of errors raised while linking a program. */
export class LinkError extends AsmError {
  override name = 'LinkError';
}

/** A jump, call or function pointer refers to a label no instruction defines. */
export class UnresolvedSymbolError extends LinkError {
  override name = 'UnresolvedSymbolError';
  /** The missing symbol. */
  readonly symbol: string;
  /** Slot index of the referencing instruction. */
  readonly index: number;
  constructor(symbol: string, index: number) {
    super(`instruction ${index}: unresolved symbol '${symbol}'`);
    this.symbol = symbol;
    this.index = index;
  }
}

/** Two instructions define the same label. */
export class DuplicateSymbolError extends LinkError {
  override name = 'DuplicateSymbolError';
  /** The label defined twice. */
  readonly symbol: string;
  /** Slot index of the second definition. */
  readonly index: number;
  constructor(symbol: string, index: number, first: number) {
    super(`instruction ${index}: symbol '${symbol}' already defined at instruction ${first}`);
    this.symbol = symbol;
    this.index = index;
  }
}

/** A jump target is farther than the instruction's offset field can express. */
export class JumpOutOfRangeError extends LinkError {
  override name = 'JumpOutOfRangeError';
  /** The jump's target label. */
  readonly symbol: string;
  /** Slot index of the jump. */
  readonly index: number;
  /** The distance that did not fit. */
  readonly distance: number;
  constructor(symbol: string, index: number, distance: number, bits: number) {
    super(
      `instruction ${index}: jump to '${symbol}' spans ${distance} instructions, more than a ${bits}-bit offset holds` +
        (bits === 16 ? ' (use Ja32/gotol for long unconditional jumps)' : ''),
    );
    this.symbol = symbol;
    this.index = index;
    this.distance = distance;
  }
}

/** Bad assembly text: the message starts with `file:line:col:` like a compiler's. */
export class AssemblerError extends AsmError {
  override name = 'AssemblerError';
  /** File name given to the assembler (or `<input>`). */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
  /** The message without the position prefix. */
  readonly reason: string;
  constructor(file: string, line: number, column: number, reason: string) {
    super(`${file}:${line}:${column}: ${reason}`);
    this.file = file;
    this.line = line;
    this.column = column;
    this.reason = reason;
  }
}
