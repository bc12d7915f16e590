import { Add, Atomic, call, Ja, JEq, LoadMapPtr, Mov, StoreImm, StoreMem } from '../builder/index.js';
import { AsmError } from '../errors.js';
import { Helper } from '../helper.js';
import { type Instruction, slotCount } from '../instruction.js';
import { R0, R1, R2, R3, R4, R10, type Register } from '../register.js';

/** Options of {@link incrementCounter}. */
export interface CounterOptions {
  /** The map's symbol (resolved by the loader's `maps: { name: map }`): a hash (or LRU hash) map with u64 values. */
  readonly map: string;
  /** The register holding the key (copied to the stack first, so any register works). */
  readonly key: Register;
  /** Key size in bytes: the map's key_size (default 4). */
  readonly keySize?: 1 | 2 | 4 | 8;
  /** What to add, a 32-bit immediate (default 1); ignored when {@link registerDelta} is given. */
  readonly delta?: number;
  /** Add the value of this callee-saved register (R6–R9: it must survive the helper calls) instead of `delta`. */
  readonly registerDelta?: Register;
  /** The 16 stack bytes the snippet may use: [stackOffset, stackOffset + 16) below R10 (default -16). */
  readonly stackOffset?: number;
}

const SIZE = { 1: 'u8', 2: 'u16', 4: 'u32', 8: 'u64' } as const;
const BPF_NOEXIST = 1;

/**
 * "Look up, else insert, else add": adds `delta` to the u64 counter under `key` in a hash map,
 * creating it when missing. Two CPUs racing to create the same key are both counted: the
 * loser's insert fails with EEXIST and it adds to the winner's entry. Falls through when done;
 * clobbers R0–R5 and the 16 stack bytes at `stackOffset`. Jumps are relative, so the snippet can
 * appear many times in one program.
 *
 * @example
 *   // count packets per ifindex (R6 = the context of an XDP program)
 *   LoadMem(R7, R6, XdpMdOffset.ingress_ifindex, 'u32'),
 *   ...incrementCounter({ map: 'per_if', key: R7 }),
 */
export function incrementCounter(options: CounterOptions): Instruction[] {
  const keySize = options.keySize ?? 4;
  const size = SIZE[keySize];
  if (!size) throw new AsmError(`incrementCounter: keySize must be 1, 2, 4 or 8, not ${keySize}`);
  const delta = options.delta ?? 1;
  const at = options.stackOffset ?? -16;
  if (at > -16 || at < -512 || at % 8 !== 0)
    throw new AsmError(`incrementCounter: stackOffset must be a multiple of 8 in [-512, -16], not ${at}`);
  const keyOff = at;
  const valueOff = at + 8;
  const regDelta = options.registerDelta;
  if (regDelta !== undefined && (regDelta < 6 || regDelta > 9)) {
    throw new AsmError(
      `incrementCounter: registerDelta must be R6–R9 (R0–R5 do not survive the helper calls), not R${regDelta}`,
    );
  }
  if (!Number.isInteger(delta) || delta < -(2 ** 31) || delta >= 2 ** 31) {
    throw new AsmError(`incrementCounter: delta ${delta} is not a 32-bit integer; put larger values in registerDelta`);
  }
  const loadDelta = regDelta === undefined ? Mov.imm(R1, delta) : Mov.reg(R1, regDelta);
  const lookup = [LoadMapPtr(R1, options.map), Mov.reg(R2, R10), Add.imm(R2, keyOff), call(Helper.map_lookup_elem)];
  const add = [loadDelta, Atomic.add(R0, 0, R1, 'u64')];
  // The retry after a lost insert race: look up again, add.
  const retry = [...lookup, JEq.imm(R0, 0, slotCount(add)), ...add];
  const insert = [
    regDelta === undefined ? StoreImm(R10, valueOff, delta, 'u64') : StoreMem(R10, valueOff, regDelta, 'u64'),
    LoadMapPtr(R1, options.map),
    Mov.reg(R2, R10),
    Add.imm(R2, keyOff),
    Mov.reg(R3, R10),
    Add.imm(R3, valueOff),
    Mov.imm(R4, BPF_NOEXIST),
    call(Helper.map_update_elem),
    JEq.imm(R0, 0, slotCount(retry)),
    ...retry,
  ];
  return [
    StoreMem(R10, keyOff, options.key, size),
    ...lookup,
    JEq.imm(R0, 0, slotCount(add) + 1),
    ...add,
    Ja(slotCount(insert)),
    ...insert,
  ];
}
