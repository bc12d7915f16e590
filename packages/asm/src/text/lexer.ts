/** Tokens of one line of LLVM-syntax BPF assembly. */

/** Token kinds: identifiers (including registers and keywords), integers, punctuation, and quoted strings (directive arguments). */
export type TokenKind = 'ident' | 'number' | 'punct' | 'string';

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
    case 43:
      return eq ? '+=' : '+';
    case 45:
      return eq ? '-=' : '-';
    case 42:
      return eq ? '*=' : '*';
    case 47:
      return eq ? '/=' : undefined;
    case 124:
      return eq ? '|=' : undefined;
    case 38:
      return eq ? '&=' : '&';
    case 37:
      return eq ? '%=' : undefined;
    case 94:
      return eq ? '^=' : undefined;
    case 61:
      return eq ? '==' : '=';
    case 33:
      return eq ? '!=' : undefined;
    case 60: // <
      if (d === 60) return line.charCodeAt(i + 2) === 61 ? '<<=' : undefined;
      return eq ? '<=' : '<';
    case 62: // >
      if (d === 62) return line.charCodeAt(i + 2) === 61 ? '>>=' : undefined;
      return eq ? '>=' : '>';
    case 40:
      return '(';
    case 41:
      return ')';
    case 91:
      return '[';
    case 93:
      return ']';
    case 44:
      return ',';
    case 58:
      return ':';
    case 35:
      return '#';
    case 64:
      return '@';
    case 115: {
      // s: signed operators
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

// Interned spellings of registers, keywords and small numbers: the common tokens then cost no
// string allocation (a large file has millions of them).
const REGISTER_NAMES = ['r', 'w'].map((p) => Array.from({ length: 11 }, (_, n) => `${p}${n}`));
const KEYWORDS = [
  'if',
  'goto',
  'gotol',
  'may_goto',
  'call',
  'exit',
  'lock',
  'll',
  'skb',
  'ld_pseudo',
  'kfunc',
  'pc',
  'u8',
  'u16',
  'u32',
  'u64',
  's8',
  's16',
  's32',
  'addr_space_cast',
  'load_acquire',
  'store_release',
  'be16',
  'be32',
  'be64',
  'le16',
  'le32',
  'le64',
  'bswap16',
  'bswap32',
  'bswap64',
  'atomic_fetch_add',
  'atomic_fetch_or',
  'atomic_fetch_and',
  'atomic_fetch_xor',
  'xchg_64',
  'xchg32_32',
  'cmpxchg_64',
  'cmpxchg32_32',
  'atomic64_fetch_add',
  'atomic64_fetch_or',
  'atomic64_fetch_and',
  'atomic64_fetch_xor',
  'atomic_xchg',
  'atomic64_xchg',
  'atomic_cmpxchg',
  'atomic64_cmpxchg',
];
const KEYWORDS_BY_START = new Map<number, string[]>();
for (const k of KEYWORDS) {
  const list = KEYWORDS_BY_START.get(k.charCodeAt(0)) ?? [];
  list.push(k);
  KEYWORDS_BY_START.set(k.charCodeAt(0), list);
}
const SMALL_NUMBERS: string[] = [];

/** The interned spelling of a register or keyword at text[i, j), or `undefined`. */
function keyword(text: string, i: number, j: number): string | undefined {
  const c = text.charCodeAt(i);
  const len = j - i;
  if ((c === 114 || c === 119) && (len === 2 || len === 3)) {
    const d = text.charCodeAt(i + 1) - 48;
    const names = REGISTER_NAMES[c === 114 ? 0 : 1]!;
    if (len === 2 && d >= 0 && d <= 9) return names[d];
    if (len === 3 && d === 1 && text.charCodeAt(i + 2) === 48) return names[10];
  }
  const candidates = KEYWORDS_BY_START.get(c);
  if (candidates !== undefined) for (const k of candidates) if (k.length === len && text.startsWith(k, i)) return k;
  return undefined;
}

/** The interned spelling of a plain decimal below 4096 at text[i, j), or `undefined`. */
function smallNumber(text: string, i: number, j: number): string | undefined {
  if (j - i > 4 || (j - i > 1 && text.charCodeAt(i) === 48)) return undefined;
  let v = 0;
  for (let k = i; k < j; k++) {
    const d = text.charCodeAt(k) - 48;
    if (d < 0 || d > 9) return undefined;
    v = v * 10 + d;
  }
  if (v >= 4096) return undefined;
  return (SMALL_NUMBERS[v] ??= String(v));
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

  /**
   * Split one line into tokens; comments start with `#` (not `kfunc#`), `//` or `;`. The line
   * is `text` from `start` to `end` (so a whole file can be lexed without splitting it).
   * Returns false on error.
   */
  lex(text: string, start = 0, end = text.length): boolean {
    this.count = 0;
    this.comment = undefined;
    this.error = undefined;
    const col = 1 - start;
    let i = start;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 13) {
        i++;
        continue;
      }
      if (
        c === 59 /* ; */ ||
        (c === 47 /* / */ && text.charCodeAt(i + 1) === 47) ||
        (c === 35 /* # */ && !this.afterKfunc(i + col))
      ) {
        this.comment = text.slice(c === 47 ? i + 2 : i + 1, end).trim();
        return true;
      }
      // `s` followed by an operator character is a signed operator (s>, s>>=, s/=, s%=...).
      if (c === 115 /* s */ && i + 1 < end && !isIdentPart(text.charCodeAt(i + 1))) {
        const op = matchOperator(text, i);
        if (op !== undefined) {
          this.push('punct', op, i + col);
          i += op.length;
          continue;
        }
      }
      if (isIdentStart(c) || isDigit(c)) {
        let j = i + 1;
        while (j < end && isIdentPart(text.charCodeAt(j))) j++; // numbers too: 0x1f, and junk like 12ab for the parser to report
        if (isDigit(c)) this.push('number', smallNumber(text, i, j) ?? text.slice(i, j), i + col);
        else this.push('ident', keyword(text, i, j) ?? text.slice(i, j), i + col);
        i = j;
        continue;
      }
      if (c === 34 /* " */) {
        let j = i + 1;
        while (j < end && text.charCodeAt(j) !== 34) j += text.charCodeAt(j) === 92 /* \\ */ ? 2 : 1;
        if (j >= end) {
          this.error = { column: i + col, message: 'unterminated string' };
          return false;
        }
        this.push('string', text.slice(i + 1, j), i + col);
        i = j + 1;
        continue;
      }
      const op = c === 115 ? undefined : matchOperator(text, i);
      if (op === undefined || i + op.length > end) {
        this.error = { column: i + col, message: `unexpected character '${text[i]}'` };
        return false;
      }
      this.push('punct', op, i + col);
      i += op.length;
    }
    return true;
  }

  private afterKfunc(column: number): boolean {
    const last = this.count > 0 ? this.tokens[this.count - 1]! : undefined;
    return last !== undefined && last.text === 'kfunc' && last.column + 5 === column;
  }
}

/** Lex one line into fresh tokens (convenience over {@link Lexer}). */
export function lexLine(line: string): LexedLine {
  const lexer = new Lexer();
  const ok = lexer.lex(line);
  const tokens = lexer.tokens.slice(0, lexer.count);
  return ok ? { tokens, comment: lexer.comment } : { tokens, comment: undefined, error: lexer.error! };
}
