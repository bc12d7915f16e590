import type { Btf } from 'btf-parser';
import type { Emitter } from '../generate/emitter.js';
import { type CondFrame, emitCond } from './codegen.js';
import { FilterExprError } from './errors.js';
import type { Cond } from './ir.js';
import { parseFilterExpr } from './parser.js';
import { type FilterRoot, resolveFilterExpr } from './resolve.js';

export type { CmpOp, MemberRef, Node } from './ast.js';
export { emitCond, type CondFrame } from './codegen.js';
export { FilterExprError } from './errors.js';
export { comparisons, type Cond, type Hop, type Place } from './ir.js';
export { tokenize, type Token } from './lexer.js';
export { MAX_DEPTH, parseFilterExpr } from './parser.js';
export { evaluateCond, type ReadMemory } from './reference.js';
export { MAX_COMPARISONS, MAX_HOPS, MAX_STRING, resolveFilterExpr, type FilterRoot } from './resolve.js';

/** Where an expression starts and which flag it came from (named in errors). */
export interface FilterExprRoot extends FilterRoot {
  readonly flag: string;
}

/** `--filter-skb-expr`: `skb` is the `struct sk_buff *`. */
export const SKB_EXPR_ROOT: FilterExprRoot = { name: 'skb', struct: 'sk_buff', flag: '--filter-skb-expr' };
/** `--filter-xdp-expr`: `xdp` is the `struct xdp_buff *` (what an XDP program's `xdp_md` is). */
export const XDP_EXPR_ROOT: FilterExprRoot = { name: 'xdp', struct: 'xdp_buff', flag: '--filter-xdp-expr' };

/** A compiled filter expression. */
export interface FilterExpr {
  readonly text: string;
  readonly flag: string;
  readonly cond: Cond;
}

/**
 * Compiles a boolean struct-field filter against the kernel's BTF:
 * `skb->dev->name == "eth0" && (skb->mark & 0xff) == 1 || !skb->_nfct`. Errors are
 * {@link FilterExprError}s that name the flag, quote the expression and give the column.
 */
export function compileFilterExpr(btf: Btf, text: string, root: FilterExprRoot = SKB_EXPR_ROOT): FilterExpr {
  try {
    const cond = resolveFilterExpr(btf, parseFilterExpr(text), root);
    return { text, flag: root.flag, cond };
  } catch (e) {
    if (e instanceof FilterExprError) throw new FilterExprError(`${root.flag} '${text}': ${e.message}`, e.column);
    throw e;
  }
}

/** The program fragment for a compiled expression: falls through on a match, jumps to `reject` otherwise. */
export function filterExprFragment(expr: FilterExpr, frame: CondFrame): (e: Emitter, reject: string) => void {
  return (e, reject) => {
    emitCond(e, expr.cond, frame, reject, `filter: ${expr.flag}`);
  };
}
