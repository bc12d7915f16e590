/** A test program body shared by the link and program tests: count runs, return a constant. */
import {
  Add,
  Atomic,
  call,
  exit,
  Helper,
  JEq,
  LoadMapPtr,
  Mov,
  R0,
  R1,
  R2,
  R10,
  StoreImm,
  type Instruction,
} from 'bpf-asm-ts';

/**
 * Instructions that add 1 to the u64 at key 0 of the array map `map` (by symbol, for the
 * loader to resolve) and return `result`.
 */
export function countRuns(result = 0, map = 'counts'): Instruction[] {
  return [
    StoreImm(R10, -4, 0, 'u32'),
    Mov.reg(R2, R10),
    Add.imm(R2, -4),
    LoadMapPtr(R1, map),
    call(Helper.map_lookup_elem),
    JEq.imm(R0, 0, 'out'),
    Mov.imm(R1, 1),
    Atomic.add(R0, 0, R1, 'u64'),
    Mov.imm(R0, result).withSymbol('out'),
    exit(),
  ];
}
