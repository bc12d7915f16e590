import { PwruError } from '../errors.js';
/** `--filter-func` is not a valid regular expression. */
export class FilterFuncError extends PwruError {
  override name = 'FilterFuncError';
}

/**
 * Upstream's `--filter-func` test: a name matches when the pattern's leftmost-first match (RE2;
 * JavaScript's backtracking engine picks the same match) starts at 0 and covers the whole name.
 * So `ip_rcv|ip_rcv_core` does not match `ip_rcv_core`, exactly as upstream. Empty: all names.
 */
export function functionMatcher(pattern: string): (name: string) => boolean {
  if (pattern === '') return () => true;
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch (e) {
    throw new FilterFuncError(`Failed to compile --filter-func ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
  return (name) => {
    const m = re.exec(name);
    return m !== null && m.index === 0 && m[0].length === name.length;
  };
}
