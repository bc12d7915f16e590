import { describe, expect, it } from 'vitest';
import type { Node } from './ast.js';
import { parseFilterExpr } from './parser.js';

/** A compact rendering of the tree, fully parenthesised, to read precedence off. */
function show(n: Node): string {
  switch (n.kind) {
    case 'or':
    case 'and':
      return `(${show(n.left)} ${n.kind === 'or' ? '||' : '&&'} ${show(n.right)})`;
    case 'not':
      return `!${show(n.operand)}`;
    case 'cmp':
      return `(${show(n.left)} ${n.op} ${show(n.right)})`;
    case 'mask':
      return `(${show(n.value)} & ${show(n.mask)})`;
    case 'cast':
      return `(struct ${n.struct} *)${show(n.operand)}`;
    case 'member':
      return `${show(n.base)}${n.members.map((m) => (m.arrow ? '->' : '.') + m.name).join('')}`;
    case 'ident':
      return n.name;
    case 'num':
      return `0x${n.value.toString(16)}`;
    case 'str':
      return JSON.stringify(n.value);
  }
}

describe('parseFilterExpr', () => {
  it('reads upstream one-comparison expressions, = as ==', () => {
    expect(show(parseFilterExpr('skb->dev->ifindex == 1'))).toBe('(skb->dev->ifindex == 0x1)');
    expect(show(parseFilterExpr('skb->protocol = 0x0800'))).toBe('(skb->protocol == 0x800)');
  });

  it('binds || looser than &&, && looser than !, and ! looser than comparisons', () => {
    expect(show(parseFilterExpr('skb->len > 1 || skb->mark == 2 && !skb->len == 3'))).toBe(
      '((skb->len > 0x1) || ((skb->mark == 0x2) && !(skb->len == 0x3)))',
    );
    expect(show(parseFilterExpr('(skb->len > 1 || skb->mark == 2) && skb->hash'))).toBe(
      '(((skb->len > 0x1) || (skb->mark == 0x2)) && skb->hash)',
    );
  });

  it('binds a mask tighter than ==, so skb->mark & 0xff == 0x1 masks', () => {
    expect(show(parseFilterExpr('skb->mark & 0xff == 0x1'))).toBe('((skb->mark & 0xff) == 0x1)');
    expect(show(parseFilterExpr('(skb->mark & 0xff) == 0x1'))).toBe('((skb->mark & 0xff) == 0x1)');
  });

  it('reads casts, ~ and - on constants, strings and C integer suffixes', () => {
    expect(show(parseFilterExpr('((struct nf_conn *)(skb->_nfct & ~7UL))->mark == 5'))).toBe(
      '((struct nf_conn *)(skb->_nfct & 0xfffffffffffffff8)->mark == 0x5)',
    );
    expect(show(parseFilterExpr('skb->dev->name == "eth\\"0"'))).toBe('(skb->dev->name == "eth\\"0")');
    expect((parseFilterExpr('skb->x == -2') as { right: { value: bigint } }).right.value).toBe(-2n);
  });

  it.each([
    ['', 'column 1: empty expression'],
    ['skb->len ==', 'column 12: unexpected end of expression'],
    ['skb->len == 1 skb', "column 15: unexpected 'skb', expected && or || or the end"],
    ['(skb->len == 1', "column 15: expected ')' to close the parenthesis at column 1, found the end"],
    ['skb->len == 1)', "column 14: unexpected ')' (unbalanced parenthesis)"],
    ['skb-> == 1', "column 7: expected a member name after '->', found '=='"],
    ['1 < skb->len < 3', 'column 14: comparisons do not chain: use && between them'],
    ['skb->name == "eth0', 'column 14: unterminated string'],
    ['skb->len # 1', "column 10: unexpected character '#'"],
    ['~skb->len == 1', "column 1: '~' applies to a constant only"],
    [
      '(struct nf_conn)skb->_nfct',
      "column 16: expected '*' after 'struct nf_conn': a cast is to a pointer, '(struct nf_conn *)', found ')'",
    ],
    ['skb->len == 12ab', 'column 13: malformed number'],
  ])('rejects %j with %j', (text, message) => {
    expect(() => parseFilterExpr(text)).toThrow(message);
  });

  it('bounds nesting', () => {
    expect(() => parseFilterExpr(`${'!'.repeat(40)}skb->len`)).toThrow(/nested deeper than 32/);
    expect(() => parseFilterExpr(`${'('.repeat(40)}skb->len${')'.repeat(40)}`)).toThrow(/nested deeper than 32/);
  });
});
