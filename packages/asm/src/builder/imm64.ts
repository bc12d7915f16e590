import { BuilderError } from '../errors.js';
import { Instruction } from '../instruction.js';
import { LD_IMM64, PseudoLoad } from '../opcode.js';
import type { Register } from '../register.js';
import { imm32, reg } from './operand.js';

function symbolName(name: string, what: string): string {
  if (typeof name !== 'string' || name === '') throw new BuilderError(`${what} name must be a non-empty string`);
  return name;
}

/** `dst = value ll`: load a 64-bit constant (two slots). */
export function LoadImm64(dst: Register, value: bigint | number): Instruction {
  let v: bigint;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value))
      throw new BuilderError(`64-bit immediate ${value} is not a safe integer; pass a bigint`);
    v = BigInt(value);
  } else v = value;
  if (v < -(1n << 63n) || v >= 1n << 64n) throw new BuilderError(`64-bit immediate ${v} does not fit 64 bits`);
  return new Instruction(LD_IMM64, reg(dst), PseudoLoad.IMM, 0, 0, v);
}

/**
 * `dst = map ll`: load a map's address. With a name the instruction references the map and
 * `link` reports a `map_fd` relocation for the loader; with a number it is a file descriptor.
 */
export function LoadMapPtr(dst: Register, map: string | number): Instruction {
  if (typeof map === 'number')
    return new Instruction(LD_IMM64, reg(dst), PseudoLoad.MAP_FD, 0, 0, BigInt(imm32(map, 'map fd')));
  return new Instruction(LD_IMM64, reg(dst), PseudoLoad.MAP_FD, 0, 0, 0n, { reference: symbolName(map, 'map') });
}

/**
 * `dst = &map[0] + offset`: load the address of a byte in an array map's single value (direct
 * value access, e.g. global data). A name becomes a `map_value` relocation; a number is an fd.
 */
export function LoadMapValue(dst: Register, map: string | number, offset = 0): Instruction {
  const high = BigInt(imm32(offset, 'map value offset')) << 32n;
  if (typeof map === 'number') {
    return new Instruction(LD_IMM64, reg(dst), PseudoLoad.MAP_VALUE, 0, 0, high | BigInt(imm32(map, 'map fd') >>> 0));
  }
  return new Instruction(LD_IMM64, reg(dst), PseudoLoad.MAP_VALUE, 0, 0, high, { reference: symbolName(map, 'map') });
}

/**
 * `dst = &ksym`: load the address of a kernel variable by BTF id. A name becomes a `btf_id`
 * relocation; a number is the BTF id itself.
 */
export function LoadBtfId(dst: Register, symbol: string | number): Instruction {
  if (typeof symbol === 'number')
    return new Instruction(LD_IMM64, reg(dst), PseudoLoad.BTF_ID, 0, 0, BigInt(imm32(symbol, 'BTF id')));
  return new Instruction(LD_IMM64, reg(dst), PseudoLoad.BTF_ID, 0, 0, 0n, {
    reference: symbolName(symbol, 'BTF symbol'),
  });
}

/** `dst = &subprogram`: load a subprogram's address (for callbacks such as `bpf_loop`); resolved by `link`. */
export function LoadFuncPtr(dst: Register, fn: string): Instruction {
  return new Instruction(LD_IMM64, reg(dst), PseudoLoad.FUNC, 0, 0, 0n, { reference: symbolName(fn, 'function') });
}

/** `dst = map ll` where the map is index `index` of the program's `fd_array` (kernel 5.14+). */
export function LoadMapByIndex(dst: Register, index: number): Instruction {
  return new Instruction(LD_IMM64, reg(dst), PseudoLoad.MAP_IDX, 0, 0, BigInt(imm32(index, 'map index')));
}

/** Address of `offset` in the value of the map at `fd_array[index]` (kernel 5.14+). */
export function LoadMapValueByIndex(dst: Register, index: number, offset = 0): Instruction {
  const constant = (BigInt(imm32(offset, 'map value offset')) << 32n) | BigInt(imm32(index, 'map index') >>> 0);
  return new Instruction(LD_IMM64, reg(dst), PseudoLoad.MAP_IDX_VALUE, 0, 0, constant);
}
