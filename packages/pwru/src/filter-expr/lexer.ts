import { FilterExprError } from './errors.js';

/** Kinds of token of the filter-expression language. */
export type TokenKind = 'ident' | 'number' | 'string' | 'punct' | 'end';

/** One token and the 1-based column where it starts. */
export interface Token {
  readonly kind: TokenKind;
  /** The token's text (a string literal's decoded contents). */
  readonly text: string;
  readonly column: number;
  /** A number's value. */
  readonly value?: bigint;
}

const PUNCT = ['->', '&&', '||', '==', '!=', '<=', '>=', '(', ')', '.', '!', '<', '>', '=', '&', '~', '*', '-'];
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', '0': '\0', '\\': '\\', '"': '"' };

/** Splits an expression into tokens; the last one is `end`. */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const column = i + 1;
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (ident) {
      out.push({ kind: 'ident', text: ident[0], column });
      i += ident[0].length;
      continue;
    }
    const num = /^(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[0-9]+)([uUlL]*)(?![A-Za-z0-9_])/.exec(text.slice(i));
    if (num) {
      out.push({ kind: 'number', text: num[0], column, value: BigInt(num[1]!) });
      i += num[0].length;
      continue;
    }
    if (/[0-9]/.test(c)) throw new FilterExprError(`column ${column}: malformed number`, column);
    if (c === '"') {
      let s = '';
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\') {
          const e = ESCAPES[text[j + 1] ?? ''];
          if (e === undefined) throw new FilterExprError(`column ${j + 1}: unknown escape in string`, j + 1);
          s += e;
          j++;
        } else s += text[j];
      }
      if (j >= text.length) throw new FilterExprError(`column ${column}: unterminated string`, column);
      out.push({ kind: 'string', text: s, column });
      i = j + 1;
      continue;
    }
    const p = PUNCT.find((x) => text.startsWith(x, i));
    if (!p) throw new FilterExprError(`column ${column}: unexpected character '${c}'`, column);
    out.push({ kind: 'punct', text: p, column });
    i += p.length;
  }
  out.push({ kind: 'end', text: '', column: text.length + 1 });
  return out;
}
