import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CmpOp, Node } from './ast.js';
import { parseFilterExpr } from './parser.js';

/** A node without columns, to compare what was printed with what was parsed. */
type Shape = unknown;

function shape(n: Node): Shape {
  const { column: _c, ...rest } = n as Node & { column: number };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) {
    if (k === 'members')
      out[k] = (v as Array<{ name: string; arrow: boolean }>).map((m) => ({ name: m.name, arrow: m.arrow }));
    else if (v && typeof v === 'object' && 'kind' in v) out[k] = shape(v as Node);
    else out[k] = v;
  }
  return out;
}

const SPACE = fc.constantFrom('', ' ', '  ', '\t');
const NAME = fc.constantFrom('len', 'mark', 'dev', 'name', 'ifindex', '_nfct', 'status', 'nd_net', 'net', 'x1');
const OP = fc.constantFrom<CmpOp>('==', '!=', '<', '<=', '>', '>=');

/** Random trees with their text, printed with random spacing and redundant parentheses. */
const member: fc.Arbitrary<[Node, string]> = fc
  .tuple(fc.array(fc.tuple(NAME, fc.boolean()), { minLength: 1, maxLength: 4 }), SPACE)
  .map(([ms, sp]) => {
    const members = ms.map(([name, arrow], i) => ({ name, arrow: i === 0 ? true : arrow, column: 0 }));
    const text = 'skb' + members.map((m) => `${sp}${m.arrow ? '->' : '.'}${sp}${m.name}`).join('');
    return [{ kind: 'member', base: { kind: 'ident', name: 'skb', column: 0 }, members, column: 0 }, text];
  });
const num: fc.Arbitrary<[Node, string]> = fc
  .tuple(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.constantFrom('hex', 'dec', 'oct', 'bin'))
  .map(([v, base]) => [
    { kind: 'num', value: v, column: 0 },
    base === 'hex'
      ? `0x${v.toString(16)}`
      : base === 'oct'
        ? `0o${v.toString(8)}`
        : base === 'bin'
          ? `0b${v.toString(2)}`
          : `${v}`,
  ]);
const str: fc.Arbitrary<[Node, string]> = fc
  .string({ maxLength: 8 })
  .filter((s) => /^[ -~]*$/.test(s))
  .map((s) => [{ kind: 'str', value: s, column: 0 }, JSON.stringify(s)]);
const value: fc.Arbitrary<[Node, string]> = fc.oneof(
  member,
  fc
    .tuple(member, num)
    .map(([[m, mt], [n, nt]]) => [{ kind: 'mask', value: m, mask: n, column: 0 }, `${mt} & ${nt}`] as [Node, string]),
  fc.tuple(fc.constantFrom('nf_conn', 'net_device'), member, fc.array(NAME, { minLength: 1, maxLength: 2 })).map(
    ([s, [m, mt], rest]) =>
      [
        {
          kind: 'member',
          base: { kind: 'cast', struct: s, operand: m, column: 0 },
          members: rest.map((name) => ({ name, arrow: true, column: 0 })),
          column: 0,
        },
        `((struct ${s} *)${mt})${rest.map((r) => `->${r}`).join('')}`,
      ] as [Node, string],
  ),
);
const leaf: fc.Arbitrary<[Node, string]> = fc.oneof(
  value,
  fc
    .tuple(value, OP, fc.oneof(num, str))
    .map(
      ([[l, lt], op, [r, rt]]) =>
        [{ kind: 'cmp', op, left: l, right: r, column: 0 }, `${lt} ${op} ${rt}`] as [Node, string],
    ),
);
const { tree } = fc.letrec<{ tree: [Node, string] }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc
      .tuple(tie('tree'), fc.constantFrom<'and' | 'or'>('and', 'or'), tie('tree'), SPACE)
      .map(
        ([[a, at], kind, [b, bt], sp]) =>
          [{ kind, left: a, right: b, column: 0 }, `(${at})${sp}${kind === 'and' ? '&&' : '||'}${sp}(${bt})`] as [
            Node,
            string,
          ],
      ),
    tie('tree').map(([a, at]) => [{ kind: 'not', operand: a, column: 0 }, `!(${at})`] as [Node, string]),
  ),
}));

describe('parseFilterExpr on random expressions', () => {
  it('reads back the tree that was printed, whatever the spacing and redundant parentheses', () => {
    fc.assert(
      fc.property(tree, fc.boolean(), ([node, text], wrap) => {
        expect(shape(parseFilterExpr(wrap ? `( ${text} )` : text))).toEqual(shape(node));
      }),
      { numRuns: 500 },
    );
  });

  it('points every error at a column inside the text (or just past it), never throws anything else', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        try {
          parseFilterExpr(text);
        } catch (e) {
          expect((e as Error).name).toBe('FilterExprError');
          const column = (e as { column?: number }).column!;
          expect(column).toBeGreaterThanOrEqual(1);
          expect(column).toBeLessThanOrEqual(text.length + 1);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
