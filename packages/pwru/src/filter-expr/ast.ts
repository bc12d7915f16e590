/** Comparison operators (`=` is read as `==`, as upstream pwru does). */
export type CmpOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

/** One `->name` or `.name` step after a value. */
export interface MemberRef {
  readonly name: string;
  readonly arrow: boolean;
  readonly column: number;
}

/** A node of a parsed filter expression; every node knows the column where it starts. */
export type Node =
  | { readonly kind: 'or' | 'and'; readonly left: Node; readonly right: Node; readonly column: number }
  | { readonly kind: 'not'; readonly operand: Node; readonly column: number }
  | { readonly kind: 'cmp'; readonly op: CmpOp; readonly left: Node; readonly right: Node; readonly column: number }
  /** `value & mask`. */
  | { readonly kind: 'mask'; readonly value: Node; readonly mask: Node; readonly column: number }
  /** `(struct name *)operand`. */
  | { readonly kind: 'cast'; readonly struct: string; readonly operand: Node; readonly column: number }
  /** `base->a.b`: members read from `base` (the root identifier, or a parenthesised cast). */
  | { readonly kind: 'member'; readonly base: Node; readonly members: readonly MemberRef[]; readonly column: number }
  /** An identifier: the root (`skb`, `xdp`) or an enumerator name. */
  | { readonly kind: 'ident'; readonly name: string; readonly column: number }
  /** An integer constant (`~` and unary `-` already applied, 64-bit two's complement for `~`). */
  | { readonly kind: 'num'; readonly value: bigint; readonly column: number }
  | { readonly kind: 'str'; readonly value: string; readonly column: number };
