/** Tokens of one line of LLVM-syntax BPF assembly. */

/** Token kinds: identifiers (including registers and keywords), integers, and punctuation. */
export type TokenKind = 'ident' | 'number' | 'punct';

/** One token with its 1-based column. */
export interface Token {
  readonly kind: TokenKind;
  /** Source text of the token (an operator's spelling for punctuation). */
  readonly text: string;
  /** 1-based column where the token starts. */
  readonly column: number;
}

/** Result of lexing one line: tokens, the trailing comment, or an error position. */
export interface LexedLine {
  readonly tokens: Token[];
  /** Text after `#`, `//` or `;`, trimmed; `undefined` when the line has no comment. */
  readonly comment: string | undefined;
  /** Set when a character cannot start a token. */
  readonly error?: { readonly column: number; readonly message: string };
}

// Longest operators first so that `s>>=` wins over `s>` and `<<=` over `<`.
const OPERATORS = [
  's>>=', '<<=', '>>=', 's>=', 's<=', 's/=', 's%=',
  '+=', '-=', '*=', '/=', '|=', '&=', '%=', '^=', '==', '!=', '>=', '<=', 's>', 's<',
  '>', '<', '=', '&', '(', ')', '*', '[', ']', ',', ':', '+', '-', '#', '@',
];

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 46 || c === 36; // a-z A-Z _ . $
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Split one line into tokens; comments start with `#` (not `kfunc#`), `//` or `;`. */
export function lexLine(line: string): LexedLine {
  const tokens: Token[] = [];
  const n = line.length;
  let i = 0;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c === 32 || c === 9 || c === 13) {
      i++;
      continue;
    }
    if (c === 59 /* ; */ || (c === 47 /* / */ && line.charCodeAt(i + 1) === 47) || (c === 35 /* # */ && !isKfuncHash(tokens, i))) {
      const comment = line.slice(c === 47 ? i + 2 : i + 1).trim();
      return { tokens, comment };
    }
    // `s` followed by an operator character is a signed operator (s>, s>>=, s/=, s%=...).
    if (c === 115 /* s */ && !isIdentPart(line.charCodeAt(i + 1)) && i + 1 < n) {
      const op = matchOperator(line, i);
      if (op !== undefined && op.startsWith('s')) {
        tokens.push({ kind: 'punct', text: op, column: i + 1 });
        i += op.length;
        continue;
      }
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentPart(line.charCodeAt(j))) j++;
      tokens.push({ kind: 'ident', text: line.slice(i, j), column: i + 1 });
      i = j;
      continue;
    }
    if (isDigit(c)) {
      let j = i + 1;
      while (j < n && isIdentPart(line.charCodeAt(j))) j++; // 0x1f, 123, and junk like 12ab reported by the parser
      tokens.push({ kind: 'number', text: line.slice(i, j), column: i + 1 });
      i = j;
      continue;
    }
    const op = matchOperator(line, i);
    if (op === undefined || op.startsWith('s')) {
      return { tokens, comment: undefined, error: { column: i + 1, message: `unexpected character '${line[i]}'` } };
    }
    tokens.push({ kind: 'punct', text: op, column: i + 1 });
    i += op.length;
  }
  return { tokens, comment: undefined };
}

function isKfuncHash(tokens: Token[], at: number): boolean {
  const last = tokens[tokens.length - 1];
  return last !== undefined && last.text === 'kfunc' && last.column + 5 === at + 1;
}

function matchOperator(line: string, i: number): string | undefined {
  for (const op of OPERATORS) if (line.startsWith(op, i)) return op;
  return undefined;
}
