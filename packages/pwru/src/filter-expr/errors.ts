import { PwruError } from '../errors.js';
/**
 * A `--filter-skb-expr` / `--filter-xdp-expr` that cannot be compiled. The message names the
 * flag, quotes the expression and, where it applies, the 1-based column of the fault.
 */
export class FilterExprError extends PwruError {
  override name = 'FilterExprError';
  constructor(
    message: string,
    /** 1-based column of the offending token, when there is one. */
    readonly column?: number,
  ) {
    super(message);
  }
}
