/**
 * bpf-asm-ts: the eBPF instruction set in TypeScript — opcodes, registers, one immutable
 * {@link Instruction} per logical instruction, a builder DSL modelled on cilium/ebpf's `asm`,
 * a linker resolving labels and subprograms, and a little/big-endian encoder and decoder.
 *
 * @example
 * ```ts
 * import { Mov, JEq, LoadMapPtr, call, exit, Helper, R0, R1, link } from 'bpf-asm-ts';
 * const linked = link([Mov.imm(R0, 0), JEq.imm(R1, 0, 'out'), Mov.imm(R0, 1), exit().withSymbol('out')]);
 * const bytes = linked.encode();
 * ```
 */
export * from './opcode.js';
export * from './register.js';
export * from './errors.js';
export { XdpAction, TcAction, XdpMdOffset, SkBuffCtxOffset } from './context.js';
export { Instruction, slotCount, type InstructionMetadata } from './instruction.js';
export { Helper, helperId, helperName, helpers, type HelperName } from './helper.js';
export { encode, decode, INSTRUCTION_SIZE, type ByteOrder, type EncodingOptions } from './encoding.js';
export { checkInstruction, checkSecondSlot, type InstructionProblem } from './validate.js';
export {
  link,
  LinkedProgram,
  type LinkOptions,
  type LinkedFunction,
  type Relocation,
  type RelocationKind,
  type RelocationValue,
} from './link.js';
export * from './builder/index.js';
export { formatInstruction, print, printTo, type PrintOptions } from './text/printer.js';
export { parse, type AssembleOptions, type ParsedProgram, type SourcePosition } from './text/parser.js';
export { assemble } from './text/assemble.js';
export { labelTargets, type LabelOptions } from './text/labels.js';
export { incrementCounter, type CounterOptions } from './snippets/counter.js';
