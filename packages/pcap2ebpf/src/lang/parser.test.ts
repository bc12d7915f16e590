import { describe, expect, it } from 'vitest';
import type { Arith, Expr } from './ast.js';
import { FilterError } from './errors.js';
import { parseFilter } from './parser.js';

/** A compact rendering of the tree. */
function show(e: Expr | Arith): string {
  switch (e.type) {
    case 'and':
    case 'or':
      return `(${show(e.left)} ${e.type} ${show(e.right)})`;
    case 'not':
      return `!${show(e.operand)}`;
    case 'primitive': {
      const id = e.id;
      const v = id.kind === 'name' ? id.name : id.kind === 'num' ? String(id.value) : 'text' in id ? id.text : '?';
      return `[${e.qual.proto} ${e.qual.dir} ${e.qual.addr} ${v}]`;
    }
    case 'abbrev':
      return e.proto;
    case 'relation':
      return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case 'num':
      return String(e.value);
    case 'len':
      return 'len';
    case 'load':
      return `${e.proto}[${show(e.index)}:${e.size}]`;
    case 'binary':
      return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case 'neg':
      return `-${show(e.operand)}`;
    default:
      return e.type;
  }
}
const tree = (s: string): string => show(parseFilter(s).expr!);
const error = (s: string): FilterError => {
  try {
    parseFilter(s);
  } catch (e) {
    return e as FilterError;
  }
  throw new Error(`${s} parsed`);
};

describe('the grammar (libpcap 1.10 grammar.y)', () => {
  it('gives and/or one precedence, left-associative, with not binding tightest', () => {
    expect(tree('tcp or udp and port 53')).toBe('((tcp or udp) and [default default port 53])');
    expect(tree('not tcp and udp')).toBe('(!tcp and udp)');
  });

  it('lets bare ids inherit the qualifiers of the term before them', () => {
    expect(tree('host 192.0.2.1 and 198.51.100.2')).toBe(
      '([default default host 192.0.2.1] and [default default host 198.51.100.2])',
    );
    expect(tree('tcp dst port 80 or 443')).toBe('([tcp dst port 80] or [tcp dst port 443])');
    expect(tree('not host a and b')).toBe('(![default default host a] and [default default host b])');
    expect(tree('src (a or b)')).toBe('([default src default a] or [default src default b])');
    expect(tree('host a and (b or c)')).toBe(
      '([default default host a] and ([default default host b] or [default default host c]))',
    );
  });

  it('leaves an id after a qualifier-less term without qualifiers', () => {
    expect(tree('tcp and 192.0.2.1')).toBe('(tcp and [undef undef undef 192.0.2.1])');
  });

  it('binds arithmetic like libpcap, where % and ^ take everything to their right', () => {
    expect(show((parseFilter('ip[0] & 0xf << 2 = 0').expr as Extract<Expr, { type: 'relation' }>).left)).toBe(
      '(ip[0:1] & (15 << 2))',
    );
    expect(tree('2 % 3 + 1 = 2')).toBe('((2 % (3 + 1)) = 2)');
    expect(tree('2 * 3 % 4 = 6')).toBe('((2 * (3 % 4)) = 6)');
    expect(tree('6 ^ 3 & 1 = 7')).toBe('((6 ^ (3 & 1)) = 7)');
    expect(tree('-1 + 2 = 1')).toBe('((-1 + 2) = 1)');
    expect(tree('ip[2:2] - 20 > len / 2')).toBe('((ip[2:2] - 20) > (len / 2))');
  });

  it('accepts the empty expression', () => {
    expect(parseFilter('').expr).toBeUndefined();
    expect(parseFilter('   ').expr).toBeUndefined();
  });

  it('rejects what libpcap cannot parse, pointing at the offending token', () => {
    for (const s of [
      '192.0.2.1',
      'localhost',
      'tcp 80',
      'host',
      'and',
      'tcp and',
      'ip proto tcp',
      'dst proto 6',
      'vxlan',
      'ip[2-1] = 0',
      'len-1 > 0',
    ]) {
      const e = error(s);
      expect(e.kind, s).toBe('syntax');
      expect(e.reason, s).toBe("can't parse filter expression: syntax error");
    }
    expect(error('host 192.0.2.1 port 80').span).toEqual({ start: 15, end: 19 });
    expect(error('tcp and').span).toEqual({ start: 7, end: 7 });
  });

  it('runs its hook in reduction order, children first', () => {
    const seen: string[] = [];
    parseFilter('ip[0] + 1 = len and tcp', (n) => seen.push(n.type));
    expect(seen).toEqual(['num', 'load', 'num', 'binary', 'len', 'relation', 'abbrev', 'and']);
  });

  it("stops at the hook's first error, before parsing the rest", () => {
    const seen: string[] = [];
    expect(() =>
      parseFilter('tcp and udp and )', (n) => {
        seen.push(n.type);
        if (n.type === 'abbrev' && seen.length === 2) throw new FilterError('semantic', 'stop');
      }),
    ).toThrow('stop');
    expect(seen).toEqual(['abbrev', 'abbrev']);
  });
});
