import { BuilderError } from '../errors.js';
import { helperId, type HelperName } from '../helper.js';
import { Instruction } from '../instruction.js';
import { Class, JumpOp, PseudoCall } from '../opcode.js';
import { imm32, off16 } from './operand.js';

const CALL = Class.JMP | JumpOp.CALL;

/**
 * Call a helper: `call(Helper.map_lookup_elem)`, `call(1)`, or by name
 * `call('bpf_map_lookup_elem')` / `call('map_lookup_elem')` (names type-checked and looked up in the
 * table; use {@link helperId} for a name only known at run time).
 */
export function call(helper: number | HelperName | `bpf_${HelperName}`): Instruction {
  const id = typeof helper === 'string' ? helperId(helper) : imm32(helper, 'helper id');
  if (id < 0) throw new BuilderError(`helper id ${id} is negative`);
  return new Instruction(CALL, 0, PseudoCall.HELPER, 0, id);
}

/** bpf-to-bpf call of the subprogram whose first instruction carries symbol `name`; resolved by `link`. */
export function callFunction(name: string): Instruction {
  if (typeof name !== 'string' || name === '') throw new BuilderError('function name must be a non-empty string');
  return new Instruction(CALL, 0, PseudoCall.CALL, 0, 0, undefined, { reference: name });
}

/**
 * Call a kernel function (kfunc). With a name the loader resolves it to a BTF id (a `kfunc`
 * relocation); with a number it is the BTF id, and `moduleBtfIndex` selects a module BTF fd
 * from the program's fd_array (0 for vmlinux).
 */
export function callKfunc(kfunc: string | number, moduleBtfIndex = 0): Instruction {
  if (typeof kfunc === 'number')
    return new Instruction(
      CALL,
      0,
      PseudoCall.KFUNC,
      off16(moduleBtfIndex, 'module BTF index'),
      imm32(kfunc, 'BTF id'),
    );
  if (kfunc === '') throw new BuilderError('kfunc name must be a non-empty string');
  return new Instruction(CALL, 0, PseudoCall.KFUNC, 0, 0, undefined, { reference: kfunc });
}

/** Return R0 from the program or subprogram. */
export function exit(): Instruction {
  return new Instruction(Class.JMP | JumpOp.EXIT, 0, 0, 0, 0);
}
