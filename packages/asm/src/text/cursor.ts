/** A cursor over one line's tokens, with the operand readers the statement parser shares. */
import type { Register } from '../register.js';
import type { Token } from './lexer.js';
import { AsmError } from '../errors.js';

/** `found 'x'`, or a clear note when `x` looks like a register that does not exist. */
export function found(t: Token | undefined): string {
  if (t === undefined) return ', found end of line';
  if (t.kind === 'ident' && /^[rw][0-9]+$/.test(t.text)) return `, found '${t.text}' (registers are r0-r10, w0-w10)`;
  return `, found '${t.text}'`;
}

/** True for `r0`-`r10` and `w0`-`w10`. */
export function isRegisterName(text: string): boolean {
  const c = text.charCodeAt(0);
  if (c !== 114 && c !== 119) return false;
  const d = text.charCodeAt(1);
  if (text.length === 2) return d >= 48 && d <= 57;
  return text.length === 3 && d === 49 && text.charCodeAt(2) === 48;
}

/** Value of a decimal or `0x` hexadecimal literal: a number if safe, else a bigint; `undefined` if malformed. */
export function numberValue(text: string): number | bigint | undefined {
  const hex = text.length > 2 && text.charCodeAt(0) === 48 && (text.charCodeAt(1) | 0x20) === 120;
  for (let i = hex ? 2 : 0; i < text.length; i++) {
    const c = text.charCodeAt(i) | (hex ? 0x20 : 0);
    const ok = (c >= 48 && c <= 57) || (hex && c >= 97 && c <= 102);
    if (!ok) return undefined;
  }
  if (text.length <= (hex ? 15 : 15)) return Number(text);
  const big = BigInt(text);
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

/** A parse error at a column of the current line; the parser adds file and line. */
export class ParseFailure extends AsmError {
  constructor(
    readonly column: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** A register operand: its number and whether it was written `rN` (64-bit) or `wN` (32-bit). */
export interface ParsedRegister {
  readonly n: Register;
  readonly wide: boolean; // r (64-bit) vs w (32-bit)
}

const WIDE: readonly ParsedRegister[] = Array.from({ length: 11 }, (_, n) =>
  Object.freeze({ n: n as Register, wide: true }),
);
const NARROW: readonly ParsedRegister[] = Array.from({ length: 11 }, (_, n) =>
  Object.freeze({ n: n as Register, wide: false }),
);

/** Cursor over one line's tokens. */
export class Cursor {
  i = 0;
  tokens: Token[] = [];
  count = 0;
  lineLength = 0;
  /** The line carried a verifier-log `(18)` prefix: a bare `rN = 0x...` is LD_IMM64, as the log omits `ll`. */
  loadImm64Hint = false;

  /** Start over on a new line's tokens. */
  reset(tokens: Token[], count: number, lineLength: number): void {
    this.tokens = tokens;
    this.count = count;
    this.lineLength = lineLength;
    this.i = 0;
    this.loadImm64Hint = false;
  }

  peek(k = 0): Token | undefined {
    const at = this.i + k;
    return at < this.count ? this.tokens[at] : undefined;
  }

  column(): number {
    return this.peek()?.column ?? this.lineLength + 1;
  }

  fail(reason: string, column = this.column()): never {
    throw new ParseFailure(column, reason);
  }

  next(what: string): Token {
    const t = this.peek();
    if (t === undefined) this.fail(`expected ${what}, found end of line`);
    this.i++;
    return t;
  }

  is(text: string, k = 0): boolean {
    return this.peek(k)?.text === text;
  }

  accept(text: string): boolean {
    if (this.is(text)) {
      this.i++;
      return true;
    }
    return false;
  }

  expect(text: string): void {
    const t = this.peek();
    if (t?.text !== text)
      this.fail(`expected '${text}'${t === undefined ? ', found end of line' : `, found '${t.text}'`}`);
    this.i++;
  }

  end(): void {
    const t = this.peek();
    if (t !== undefined) this.fail(`unexpected '${t.text}' after instruction`);
  }

  isRegister(k = 0): boolean {
    const t = this.peek(k);
    return t !== undefined && t.kind === 'ident' && isRegisterName(t.text);
  }

  register(): ParsedRegister {
    const t = this.peek();
    if (!this.isRegister()) this.fail(`expected a register${found(t)}`);
    this.i++;
    const text = t!.text;
    const n = text.length === 2 ? text.charCodeAt(1) - 48 : 10;
    return (text.charCodeAt(0) === 114 ? WIDE : NARROW)[n]!;
  }

  /** A possibly signed integer: a number when it is a safe integer, else a bigint. */
  integerValue(what: string): number | bigint {
    let negative = false;
    if (this.accept('-')) negative = true;
    else this.accept('+');
    const t = this.peek();
    if (t === undefined || t.kind !== 'number') this.fail(`expected ${what}${found(t)}`);
    this.i++;
    const v = numberValue(t.text);
    if (v === undefined) this.fail(`'${t.text}' is not a number`, t.column);
    return negative ? -v : v;
  }

  /** A possibly signed integer as a bigint. */
  integer(what = 'a number'): bigint {
    return BigInt(this.integerValue(what));
  }

  /** A 32-bit immediate: signed or unsigned 32-bit, normalized to signed. */
  imm32(what = 'an immediate'): number {
    const column = this.column();
    const v = this.integerValue(what);
    if (v < -0x80000000 || v > 0xffffffff) this.fail(`${what} ${v} does not fit 32 bits`, column);
    return Number(v) | 0;
  }

  /** A signed 16-bit number. */
  off16(what = 'an offset'): number {
    const column = this.column();
    const v = this.integerValue(what);
    if (v < -32768 || v > 32767) this.fail(`${what} ${v} does not fit 16 signed bits`, column);
    return Number(v);
  }

  ident(what: string): Token {
    const t = this.peek();
    if (t?.kind !== 'ident')
      this.fail(`expected ${what}${t === undefined ? ', found end of line' : `, found '${t.text}'`}`);
    this.i++;
    return t;
  }
}
