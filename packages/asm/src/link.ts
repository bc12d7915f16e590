import { encode, type EncodingOptions } from './encoding.js';
import { DuplicateSymbolError, JumpOutOfRangeError, LinkError, UnresolvedSymbolError } from './errors.js';
import { Instruction } from './instruction.js';
import { LD_IMM64, PseudoCall, PseudoLoad } from './opcode.js';

/** What a loader must fill in before loading: the kind of a {@link Relocation}. */
export type RelocationKind =
  /** LD_IMM64 map fd: put the map's fd in the slot's imm. */
  | 'map_fd'
  /** LD_IMM64 map value: put the map's fd in the slot's imm (the value offset is already in the next slot). */
  | 'map_value'
  /** LD_IMM64 ksym: put the kernel variable's BTF id in the slot's imm. */
  | 'btf_id'
  /** kfunc call: put the function's BTF id in imm (and a module BTF fd_array index in offset). */
  | 'kfunc';

/** A symbol the loader must resolve, at slot `index` of the linked program. */
export interface Relocation {
  /** Slot index (8-byte unit) of the instruction to patch, as the verifier counts. */
  readonly index: number;
  /** Index of the instruction in {@link LinkedProgram.instructions}. */
  readonly instruction: number;
  /** What to fill in. */
  readonly kind: RelocationKind;
  /** The map, ksym or kfunc name. */
  readonly symbol: string;
  /** For `map_value`: the byte offset into the value (already encoded in the second slot). */
  readonly offset?: number;
}

/** A subprogram placed in the linked program. */
export interface LinkedFunction {
  /** The subprogram's symbol (the main program's first symbol, or `undefined`). */
  readonly name: string | undefined;
  /** Slot index of its first instruction. */
  readonly index: number;
}

/** Options of {@link link}. */
export interface LinkOptions {
  /**
   * Library of subprograms, each a list whose first instruction carries the function's symbol.
   * Only those called (or pointed to by `LoadFuncPtr`) from the program, transitively, are
   * appended, in the order they are first needed.
   */
  readonly subprograms?: ReadonlyArray<readonly Instruction[]>;
}

/** The value a loader supplies for one relocation. */
export interface RelocationValue {
  /** The fd or BTF id for the imm field. */
  readonly imm: number;
  /** For kfuncs: index of the module BTF fd in fd_array (0 for vmlinux). */
  readonly offset?: number;
}

/** The result of {@link link}: resolved instructions plus what the loader still has to fill in. */
export class LinkedProgram {
  /** The instructions, with jumps, bpf-to-bpf calls and function pointers resolved; metadata kept. */
  readonly instructions: readonly Instruction[];
  /** Map, ksym and kfunc references left for the loader, in slot order. */
  readonly relocations: readonly Relocation[];
  /** Every label and its slot index. */
  readonly symbols: ReadonlyMap<string, number>;
  /** The main program (first) and each appended subprogram with its entry slot. */
  readonly functions: readonly LinkedFunction[];
  /** Number of 8-byte slots (the kernel's instruction count). */
  readonly slotCount: number;
  readonly #slotToInstruction: Int32Array;

  /** @internal use {@link link}. */
  constructor(
    instructions: Instruction[],
    relocations: Relocation[],
    symbols: Map<string, number>,
    functions: LinkedFunction[],
    slotToInstruction: Int32Array,
  ) {
    this.instructions = instructions;
    this.relocations = relocations;
    this.symbols = symbols;
    this.functions = functions;
    this.slotCount = slotToInstruction.length;
    this.#slotToInstruction = slotToInstruction;
  }

  /** The instruction covering slot `index` (both slots of an LD_IMM64 map to it), or `undefined`. */
  instructionAtSlot(index: number): Instruction | undefined {
    const i = this.#slotToInstruction[index];
    return i === undefined ? undefined : this.instructions[i];
  }

  /**
   * The provenance comment of the instruction at slot `index` (e.g. the failing instruction of
   * a verifier log), falling back to the nearest preceding commented instruction.
   */
  commentAtSlot(index: number): string | undefined {
    for (let i = this.#slotToInstruction[index] ?? -1; i >= 0; i--) {
      const c = this.instructions[i]!.comment;
      if (c !== undefined) return c;
    }
    return undefined;
  }

  /** Per-slot comments (length {@link slotCount}); the second slot of LD_IMM64 repeats the first. */
  get comments(): Array<string | undefined> {
    return Array.from(this.#slotToInstruction, (i) => this.instructions[i]!.comment);
  }

  /**
   * The instructions with every relocation filled by `resolve` (fd or BTF id per symbol).
   * @throws {LinkError} if `resolve` returns something that is not a 32-bit integer
   */
  resolve(resolve: (relocation: Relocation) => number | RelocationValue): Instruction[] {
    const out = this.instructions.slice();
    for (const r of this.relocations) {
      const v = resolve(r);
      const value = typeof v === 'number' ? { imm: v } : v;
      if (!Number.isInteger(value.imm) || value.imm < -0x80000000 || value.imm > 0xffffffff) {
        throw new LinkError(
          `instruction ${r.index}: value ${value.imm} for ${r.kind} '${r.symbol}' is not a 32-bit integer`,
        );
      }
      out[r.instruction] = out[r.instruction]!.withFields(
        value.offset === undefined ? { imm: value.imm | 0 } : { imm: value.imm | 0, offset: value.offset },
      );
    }
    return out;
  }

  /** Encode the instructions as they are (relocations unfilled unless you pass {@link resolve}'s result to `encode`). */
  encode(options?: EncodingOptions): Uint8Array {
    return encode(this.instructions, options);
  }
}

function isFunctionReference(insn: Instruction): boolean {
  return insn.reference !== undefined && (insn.isFunctionCall || insn.isFunctionPointer);
}

/**
 * Link a program: append the subprograms it calls, resolve every label reference of jumps
 * (forward and backward), bpf-to-bpf calls and function pointers to relative offsets, and list
 * map/BTF/kfunc references as {@link Relocation}s for the loader.
 *
 * @throws {UnresolvedSymbolError} a jump, call or function pointer names an undefined label
 * @throws {DuplicateSymbolError} two instructions define the same label
 * @throws {JumpOutOfRangeError} a conditional jump or `goto` is farther than 16 bits reach
 * @throws {LinkError} a reference on an instruction that cannot take one (e.g. a plain constant load)
 */
export function link(program: readonly Instruction[], options: LinkOptions = {}): LinkedProgram {
  const library = new Map<string, readonly Instruction[]>();
  for (const sub of options.subprograms ?? []) {
    const name = sub[0]?.symbol;
    if (name === undefined) throw new LinkError('a subprogram must start with an instruction carrying its symbol');
    if (library.has(name)) throw new DuplicateSymbolError(name, 0, 0);
    library.set(name, sub);
  }

  // Pull in subprograms transitively, in the order they are first referenced.
  const parts: Array<readonly Instruction[]> = [program];
  if (library.size > 0) {
    const defined = new Set<string>();
    const addDefinitions = (part: readonly Instruction[]): void => {
      for (const insn of part) for (const label of insn.labels) defined.add(label);
    };
    addDefinitions(program);
    for (let p = 0; p < parts.length; p++) {
      for (const insn of parts[p]!) {
        if (!isFunctionReference(insn)) continue;
        const name = insn.reference!;
        if (defined.has(name)) continue;
        const sub = library.get(name);
        if (sub === undefined) continue; // reported as unresolved below
        parts.push(sub);
        addDefinitions(sub);
      }
    }
  }

  const instructions: Instruction[] = [];
  const functions: LinkedFunction[] = [];
  const symbols = new Map<string, number>();
  const slotOf: number[] = [];
  let slot = 0;
  const define = (label: string): void => {
    const first = symbols.get(label);
    if (first !== undefined) throw new DuplicateSymbolError(label, slot, first);
    symbols.set(label, slot);
  };
  for (const part of parts) {
    functions.push({ name: part[0]?.symbol, index: slot });
    for (const insn of part) {
      const meta = insn.meta;
      if (meta?.symbol !== undefined) {
        define(meta.symbol);
        if (meta.aliases !== undefined) for (const alias of meta.aliases) define(alias);
      }
      instructions.push(insn);
      slotOf.push(slot);
      slot += insn.opcode === LD_IMM64 ? 2 : 1;
    }
  }

  const slotToInstruction = new Int32Array(slot);
  for (let i = 0; i < instructions.length; i++) {
    slotToInstruction[slotOf[i]!] = i;
    if (instructions[i]!.opcode === LD_IMM64) slotToInstruction[slotOf[i]! + 1] = i;
  }

  const relocations: Relocation[] = [];
  for (let i = 0; i < instructions.length; i++) {
    const insn = instructions[i]!;
    const ref = insn.meta?.reference;
    if (ref === undefined) continue;
    const at = slotOf[i]!;
    const target = (): number => {
      const t = symbols.get(ref);
      if (t === undefined) throw new UnresolvedSymbolError(ref, at);
      return t - (at + 1);
    };
    if (insn.isJump) {
      const distance = target();
      if (insn.isLongJump) {
        instructions[i] = insn.withFields({ imm: distance });
      } else {
        if (distance < -0x8000 || distance > 0x7fff) throw new JumpOutOfRangeError(ref, at, distance, 16);
        instructions[i] = insn.withFields({ offset: distance });
      }
    } else if (insn.isFunctionCall || insn.isFunctionPointer) {
      instructions[i] = insn.withFields({ imm: target() });
    } else if (insn.isKfuncCall) {
      relocations.push({ index: at, instruction: i, kind: 'kfunc', symbol: ref });
    } else if (insn.isLoadImm64 && insn.src === PseudoLoad.MAP_FD) {
      relocations.push({ index: at, instruction: i, kind: 'map_fd', symbol: ref });
    } else if (insn.isLoadImm64 && insn.src === PseudoLoad.MAP_VALUE) {
      relocations.push({ index: at, instruction: i, kind: 'map_value', symbol: ref, offset: insn.immHigh });
    } else if (insn.isLoadImm64 && insn.src === PseudoLoad.BTF_ID) {
      relocations.push({ index: at, instruction: i, kind: 'btf_id', symbol: ref });
    } else if (!(insn.isCall && insn.src === PseudoCall.HELPER)) {
      // (A helper call's reference is informational: its id is already in imm.)
      throw new LinkError(
        `instruction ${at}: nothing resolves reference '${ref}' on '${insn}' (only jumps, calls, maps, ksyms and function pointers take one)`,
      );
    }
  }
  return new LinkedProgram(instructions, relocations, symbols, functions, slotToInstruction);
}
