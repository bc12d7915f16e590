import { describe, expect, it } from 'vitest';
import { lexLine } from './lexer.js';

const texts = (line: string) => lexLine(line).tokens.map((t) => t.text);

describe('lexLine', () => {
  it('takes the longest operator, including the signed ones', () => {
    expect(texts('r1 s>>= 3')).toEqual(['r1', 's>>=', '3']);
    expect(texts('if w1 s<= w2 goto +1')).toEqual(['if', 'w1', 's<=', 'w2', 'goto', '+', '1']);
    expect(texts('r1 <<= r2')).toEqual(['r1', '<<=', 'r2']);
    expect(texts('w1 s%= 7')).toEqual(['w1', 's%=', '7']);
  });

  it('keeps identifiers that start with s', () => {
    expect(texts('r0 = *(s16 *)(r1 + 0)')).toEqual(['r0', '=', '*', '(', 's16', '*', ')', '(', 'r1', '+', '0', ')']);
    expect(texts('skb: exit')).toEqual(['skb', ':', 'exit']);
  });

  it('splits off comments after #, // or ;, but not the # of kfunc#id', () => {
    expect(lexLine('r0 = 1 # one').comment).toBe('one');
    expect(lexLine('r0 = 1 // one').comment).toBe('one');
    expect(lexLine('r0 = 1 ; one').comment).toBe('one');
    expect(texts('call kfunc#12 # note')).toEqual(['call', 'kfunc', '#', '12']);
  });

  it('records columns and reports a stray character', () => {
    expect(lexLine('\tr1 = 0x1f').tokens.map((t) => [t.kind, t.column])).toEqual([
      ['ident', 2],
      ['punct', 5],
      ['number', 7],
    ]);
    expect(lexLine('r1 = $x.y').error).toBeUndefined(); // $ starts identifiers (compiler symbols)
    expect(lexLine('r1 = 1 ?').error).toEqual({ column: 8, message: "unexpected character '?'" });
  });
});
