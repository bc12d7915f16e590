/**
 * Register assignment and stack layout of a lowered filter.
 *
 * Registers (all caller-saved, so an inline fragment leaves R6–R9 to its host):
 * A = R0 (so `ret a` is free and the result lands in R0), X = R3, scratch T = R4, indirect
 * pointer P = R5; the packet start is R1 and its end R2 (direct packet access), or the copied
 * length is R2 (copy models; the copy lives on the stack).
 *
 * Stack (offsets below the frame pointer, after `base` bytes the host keeps for itself):
 * `base+8` original length (u64), `base+16` copied length (u64; after the prologue its upper half,
 * `base+12`, holds X across a loop's back edge), `base+24` loop counter (u64),
 * `base+28 … base+88` M[0..15] (u32 each), then the packet copy.
 */
import { R0, R1, R2, R3, R4, R5, type Register } from 'bpf-asm-ts';

/** Accumulator. */
export const REG_A: Register = R0;
/** Index register. */
export const REG_X: Register = R3;
/** Temporary. */
export const REG_T: Register = R4;
/** Pointer for indirect loads. */
export const REG_P: Register = R5;
/** Packet start (direct access) / first argument. */
export const REG_START: Register = R1;
/** Packet end (direct access) or copied length (copy models) / second argument. */
export const REG_END: Register = R2;

/** Frame-pointer offsets of everything the filter keeps on the stack. */
export interface StackLayout {
  /** Offset of the original packet length (u64). */
  length: number;
  /** Offset of the copied length (u64). */
  copied: number;
  /** Offset of the loop counter (u64). */
  loopCounter: number;
  /**
   * Offset of a u32 that is not at the start of an 8-byte slot (inside the copied-length slot,
   * which nothing reads after the prologue): the verifier does not track values stored there.
   */
  loopScratch: number;
  /** Offset of the copy's first byte. */
  buffer: number;
  /** Bytes of stack used below the frame pointer, including the host's `base`. */
  depth: number;
}

/** Offset of scratch word M[k]. */
export function scratchOffset(base: number, k: number): number {
  return -(base + 24 + 4 * (k + 1));
}

/** Lays out the stack below `base` bytes for a copy of `copyBytes` bytes. */
export function stackLayout(base: number, copyBytes: number): StackLayout {
  const buffer = -(base + 88 + roundUp8(copyBytes));
  return {
    length: -(base + 8),
    copied: -(base + 16),
    loopCounter: -(base + 24),
    loopScratch: -(base + 12),
    buffer,
    depth: -buffer,
  };
}

function roundUp8(n: number): number {
  return (n + 7) & ~7;
}
