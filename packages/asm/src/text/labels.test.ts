import { describe, expect, it } from 'vitest';
import { decode, encode } from '../encoding.js';
import { assemble } from './assemble.js';
import { labelTargets } from './labels.js';
import { print } from './printer.js';

describe('labelTargets', () => {
  const source = [
    'r0 = 0',
    'loop:',
    'if r0 > 3 goto done',
    'r0 += 1',
    'r1 = cb ll',
    'goto loop',
    'done:',
    'call sub',
    'exit',
    'sub:',
    'r0 = 2',
    'exit',
    'cb:',
    'exit',
  ].join('\n');
  const bytes = assemble(source).encode();

  it('names the targets of decoded jumps, calls and function pointers', () => {
    const text = print(labelTargets(decode(bytes)));
    expect(text).toBe(
      [
        '\tr0 = 0',
        'LBB1:',
        '\tif r0 > 3 goto LBB6',
        '\tr0 += 1',
        '\tr1 = fn_10 ll',
        '\tgoto LBB1',
        'LBB6:',
        '\tcall fn_8',
        '\texit',
        'fn_8:',
        '\tr0 = 2',
        '\texit',
        'fn_10:',
        '\texit',
        '',
      ].join('\n'),
    );
  });

  it('produces text that assembles back to the same bytes', () => {
    const text = print(labelTargets(decode(bytes)));
    expect(assemble(text).encode()).toEqual(bytes);
  });

  it('leaves targets outside the program numeric and keeps existing symbols', () => {
    const insns = labelTargets(decode(encode(assemble('goto +5\nexit').instructions)));
    expect(print(insns)).toBe('\tgoto +5\n\texit\n');
    const named = labelTargets(assemble('goto end\nr0 = 1\nend:\nexit').instructions);
    expect(named[2]!.symbol).toBe('end');
  });
});
