import type { CmpOp, MemberRef, Node } from './ast.js';
import { FilterExprError } from './errors.js';
import { type Token, tokenize } from './lexer.js';

/** The most nested parentheses, negations and casts an expression may have. */
export const MAX_DEPTH = 32;

const CMP: Record<string, CmpOp> = { '==': '==', '=': '==', '!=': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };
const U64 = (1n << 64n) - 1n;

/**
 * Parses a boolean filter expression. Precedence, loosest first: `||`, `&&`, `!`, comparisons,
 * `&` (a mask binds tighter than `==`, unlike C, so `skb->mark & 0xff == 1` masks), the prefix
 * operators `~`, `-` and casts `(struct name *)`, then `->`/`.` member steps.
 */
export function parseFilterExpr(text: string): Node {
  return new Parser(tokenize(text)).parse();
}

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  parse(): Node {
    if (this.peek().kind === 'end') throw this.error(this.peek(), 'empty expression');
    const n = this.or();
    const t = this.peek();
    if (t.kind !== 'end')
      throw this.error(
        t,
        `unexpected '${t.text}'${t.text === ')' ? ' (unbalanced parenthesis)' : ', expected && or || or the end'}`,
      );
    return n;
  }

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.pos + ahead, this.tokens.length - 1)]!;
  }

  private next(): Token {
    return this.tokens[this.pos++]!;
  }

  private isPunct(text: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.kind === 'punct' && t.text === text;
  }

  private expect(text: string, what: string): Token {
    const t = this.peek();
    if (!this.isPunct(text)) throw this.error(t, `expected '${text}' ${what}, found ${describeToken(t)}`);
    return this.next();
  }

  private error(t: Token, message: string): FilterExprError {
    return new FilterExprError(`column ${t.column}: ${message}`, t.column);
  }

  private nest<T>(t: Token, f: () => T): T {
    if (++this.depth > MAX_DEPTH) throw this.error(t, `nested deeper than ${MAX_DEPTH}`);
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  private or(): Node {
    let left = this.and();
    while (this.isPunct('||')) {
      this.next();
      left = { kind: 'or', left, right: this.and(), column: left.column };
    }
    return left;
  }

  private and(): Node {
    let left = this.unary();
    while (this.isPunct('&&')) {
      this.next();
      left = { kind: 'and', left, right: this.unary(), column: left.column };
    }
    return left;
  }

  private unary(): Node {
    const t = this.peek();
    if (this.isPunct('!')) {
      this.next();
      return this.nest(t, () => ({ kind: 'not', operand: this.unary(), column: t.column }));
    }
    return this.comparison();
  }

  private comparison(): Node {
    const left = this.bitAnd();
    const t = this.peek();
    const op = t.kind === 'punct' ? CMP[t.text] : undefined;
    if (!op) return left;
    this.next();
    const right = this.bitAnd();
    const again = this.peek();
    if (again.kind === 'punct' && CMP[again.text])
      throw this.error(again, `comparisons do not chain: use && between them`);
    return { kind: 'cmp', op, left, right, column: t.column };
  }

  private bitAnd(): Node {
    let value = this.prefix();
    while (this.isPunct('&')) {
      const t = this.next();
      value = { kind: 'mask', value, mask: this.prefix(), column: t.column };
    }
    return value;
  }

  private prefix(): Node {
    const t = this.peek();
    if (this.isPunct('~') || this.isPunct('-')) {
      this.next();
      const operand = this.nest(t, () => this.prefix());
      if (operand.kind !== 'num') throw this.error(t, `'${t.text}' applies to a constant only`);
      const value = t.text === '~' ? ~operand.value & U64 : -operand.value;
      return { kind: 'num', value, column: t.column };
    }
    if (this.isPunct('(') && this.peek(1).kind === 'ident' && this.peek(1).text === 'struct') {
      this.next();
      this.next();
      const name = this.peek();
      if (name.kind !== 'ident')
        throw this.error(name, `expected a struct name after 'struct', found ${describeToken(name)}`);
      this.next();
      this.expect('*', `after 'struct ${name.text}': a cast is to a pointer, '(struct ${name.text} *)'`);
      this.expect(')', 'to close the cast');
      const operand = this.nest(t, () => this.prefix());
      return { kind: 'cast', struct: name.text, operand, column: t.column };
    }
    return this.postfix();
  }

  private postfix(): Node {
    const base = this.primary();
    const members: MemberRef[] = [];
    while (this.isPunct('->') || this.isPunct('.')) {
      const arrow = this.next().text === '->';
      const name = this.peek();
      if (name.kind !== 'ident')
        throw this.error(name, `expected a member name after '${arrow ? '->' : '.'}', found ${describeToken(name)}`);
      this.next();
      members.push({ name: name.text, arrow, column: name.column });
    }
    if (members.length === 0) return base;
    return { kind: 'member', base, members, column: base.column };
  }

  private primary(): Node {
    const t = this.next();
    switch (t.kind) {
      case 'ident':
        return { kind: 'ident', name: t.text, column: t.column };
      case 'number':
        return { kind: 'num', value: t.value!, column: t.column };
      case 'string':
        return { kind: 'str', value: t.text, column: t.column };
      case 'punct':
        if (t.text === '(') {
          const inner = this.nest(t, () => this.or());
          this.expect(')', `to close the parenthesis at column ${t.column}`);
          return inner;
        }
        break;
      case 'end':
        throw this.error(t, 'unexpected end of expression');
    }
    throw this.error(t, `unexpected '${t.text}'`);
  }
}

function describeToken(t: Token): string {
  if (t.kind === 'end') return 'the end';
  if (t.kind === 'string') return `string ${JSON.stringify(t.text)}`;
  return `'${t.text}'`;
}
