import type { CmpOp } from './ast.js';

/** A pointer read on the way to a field: 8 bytes at `base + offset`, ANDed with `mask` (a cast's `& ~7`). */
export interface Hop {
  readonly offset: number;
  readonly mask?: bigint;
}

/** Where a value lives: follow `hops` from the root pointer, then read `size` bytes at `offset`. */
export interface Place {
  readonly hops: readonly Hop[];
  readonly offset: number;
  /** 1, 2, 4 or 8. */
  readonly size: number;
  /** A bitfield: its bit offset inside the loaded unit and its width. */
  readonly bitOffset?: number;
  readonly bitSize?: number;
  /** The C text of the place, for messages and program comments. */
  readonly text: string;
}

/**
 * A compiled condition. A comparison on a path that meets a NULL pointer is false (so that one
 * upstream comparison keeps upstream's meaning: such a packet is not shown), whatever its operator.
 */
export type Cond =
  | { readonly kind: 'and' | 'or'; readonly left: Cond; readonly right: Cond }
  | { readonly kind: 'not'; readonly operand: Cond }
  | {
      readonly kind: 'cmp';
      readonly place: Place;
      /** Sign-extend the loaded value (a signed field) before masking and comparing. */
      readonly signed: boolean;
      /** AND applied after loading (and sign extension); the comparison is then unsigned. */
      readonly mask?: bigint;
      readonly op: CmpOp;
      /** The constant as a 64-bit pattern; negative only for signed comparisons. */
      readonly value: bigint;
    }
  /** A char array against a string's bytes (with its NUL when the array has room). */
  | { readonly kind: 'bytes'; readonly place: Place; readonly op: '==' | '!='; readonly bytes: Uint8Array };

/** Counts the comparisons of a condition. */
export function comparisons(c: Cond): number {
  switch (c.kind) {
    case 'and':
    case 'or':
      return comparisons(c.left) + comparisons(c.right);
    case 'not':
      return comparisons(c.operand);
    default:
      return 1;
  }
}
