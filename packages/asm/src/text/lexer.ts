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

/**
 * The operator starting at `i`, longest match first (`s>>=` before `s>`, `<<=` before `<`), or
 * `undefined`. Returns string literals, so lexing allocates nothing for punctuation.
 */
function matchOperator(line: string, i: number): string | undefined {
  const c = line.charCodeAt(i);
  const d = line.charCodeAt(i + 1);
  const eq = d === 61; // '='
  switch (c) {
    case 43: return eq ? '+=' : '+';
    case 45: return eq ? '-=' : '-';
    case 42: return eq ? '*=' : '*';
    case 47: return eq ? '/=' : undefined;
    case 124: return eq ? '|=' : undefined;
    case 38: return eq ? '&=' : '&';
    case 37: return eq ? '%=' : undefined;
    case 94: return eq ? '^=' : undefined;
    case 61: return eq ? '==' : '=';
    case 33: return eq ? '!=' : undefined;
    case 60: // <
      if (d === 60) return line.charCodeAt(i + 2) === 61 ? '<<=' : undefined;
      return eq ? '<=' : '<';
    case 62: // >
      if (d === 62) return line.charCodeAt(i + 2) === 61 ? '>>=' : undefined;
      return eq ? '>=' : '>';
    case 40: return '(';
    case 41: return ')';
    case 91: return '[';
    case 93: return ']';
    case 44: return ',';
    case 58: return ':';
    case 35: return '#';
    case 64: return '@';
    case 115: { // s: signed operators
      const e = line.charCodeAt(i + 2);
      if (d === 62) {
        if (e === 62) return line.charCodeAt(i + 3) === 61 ? 's>>=' : undefined;
        return e === 61 ? 's>=' : 's>';
      }
      if (d === 60) return e === 61 ? 's<=' : 's<';
      if (d === 47) return e === 61 ? 's/=' : undefined;
      if (d === 37) return e === 61 ? 's%=' : undefined;
      return undefined;
    }
    default:
      return undefined;
  }
}

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 46 || c === 36; // a-z A-Z _ . $
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * A reusable line lexer. Token objects are pooled and overwritten by the next {@link lex}
 * call, so lexing a large file allocates only the identifier and number strings.
 */
export class Lexer {
  /** Token pool; only the first {@link count} are valid after {@link lex}. */
  readonly tokens: Token[] = [];
  /** Number of tokens of the last line. */
  count = 0;
  /** Comment of the last line (see {@link LexedLine.comment}). */
  comment: string | undefined;
  /** Error of the last line, if a character could not start a token. */
  error: { readonly column: number; readonly message: string } | undefined;

  private push(kind: TokenKind, text: string, column: number): void {
    const t = this.tokens[this.count] as { kind: TokenKind; text: string; column: number } | undefined;
    if (t === undefined) this.tokens.push({ kind, text, column });
    else {
      t.kind = kind;
      t.text = text;
      t.column = column;
    }
    this.count++;
  }

  /** Split one line into tokens; comments start with `#` (not `kfunc#`), `//` or `;`. Returns false on error. */
  lex(line: string): boolean {
    this.count = 0;
    this.comment = undefined;
    this.error = undefined;
    const n = line.length;
    let i = 0;
    while (i < n) {
      const c = line.charCodeAt(i);
      if (c === 32 || c === 9 || c === 13) {
        i++;
        continue;
      }
      if (c === 59 /* ; */ || (c === 47 /* / */ && line.charCodeAt(i + 1) === 47) || (c === 35 /* # */ && !this.afterKfunc(i))) {
        this.comment = line.slice(c === 47 ? i + 2 : i + 1).trim();
        return true;
      }
      // `s` followed by an operator character is a signed operator (s>, s>>=, s/=, s%=...).
      if (c === 115 /* s */ && i + 1 < n && !isIdentPart(line.charCodeAt(i + 1))) {
        const op = matchOperator(line, i);
        if (op !== undefined) {
          this.push('punct', op, i + 1);
          i += op.length;
          continue;
        }
      }
      if (isIdentStart(c) || isDigit(c)) {
        let j = i + 1;
        while (j < n && isIdentPart(line.charCodeAt(j))) j++; // numbers too: 0x1f, and junk like 12ab for the parser to report
        this.push(isDigit(c) ? 'number' : 'ident', line.slice(i, j), i + 1);
        i = j;
        continue;
      }
      const op = c === 115 ? undefined : matchOperator(line, i);
      if (op === undefined) {
        this.error = { column: i + 1, message: `unexpected character '${line[i]}'` };
        return false;
      }
      this.push('punct', op, i + 1);
      i += op.length;
    }
    return true;
  }

  private afterKfunc(at: number): boolean {
    const last = this.count > 0 ? this.tokens[this.count - 1]! : undefined;
    return last !== undefined && last.text === 'kfunc' && last.column + 5 === at + 1;
  }
}

/** Lex one line into fresh tokens (convenience over {@link Lexer}). */
export function lexLine(line: string): LexedLine {
  const lexer = new Lexer();
  const ok = lexer.lex(line);
  const tokens = lexer.tokens.slice(0, lexer.count);
  return ok ? { tokens, comment: lexer.comment } : { tokens, comment: undefined, error: lexer.error! };
}
