import { AssemblerError, DuplicateSymbolError, JumpOutOfRangeError, UnresolvedSymbolError } from '../errors.js';
import type { Instruction } from '../instruction.js';
import { link, type LinkedProgram, type LinkOptions } from '../link.js';
import { parse, type AssembleOptions } from './parser.js';

/**
 * Assemble text into a linked program: {@link parse}, then {@link link} (labels resolved, map
 * and kfunc names left as relocations). Link errors are reported at the offending line.
 * @throws {AssemblerError} with file:line:col
 */
export function assemble(source: string, options: AssembleOptions & LinkOptions = {}): LinkedProgram {
  const parsed = parse(source, options);
  try {
    return link(parsed.instructions, options);
  } catch (e) {
    if (e instanceof UnresolvedSymbolError || e instanceof DuplicateSymbolError || e instanceof JumpOutOfRangeError) {
      const at = instructionAtSlot(parsed.instructions, e.index);
      const pos = parsed.positionOf(at) ?? { line: 1, column: 1 };
      throw new AssemblerError(
        options.file ?? '<input>',
        pos.line,
        pos.column,
        e.message.replace(/^instruction \d+: /, ''),
      );
    }
    throw e;
  }
}

function instructionAtSlot(insns: readonly Instruction[], slot: number): number {
  let s = 0;
  for (let i = 0; i < insns.length; i++) {
    if (s >= slot) return i;
    s += insns[i]!.slots;
  }
  return insns.length - 1;
}
