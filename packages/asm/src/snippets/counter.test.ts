import { describe, expect, it } from 'vitest';
import { AsmError } from '../errors.js';
import { R1, R6, R7 } from '../register.js';
import { formatInstruction } from '../text/printer.js';
import { incrementCounter } from './counter.js';

describe('incrementCounter', () => {
  it('looks up, else inserts with BPF_NOEXIST, else looks up again and adds', () => {
    const text = incrementCounter({ map: 'counts', key: R6 }).map((i) => formatInstruction(i));
    expect(text.filter((t) => t.startsWith('call'))).toEqual(['call 1', 'call 2', 'call 1']); // lookup, update, lookup
    expect(text).toContain('r4 = 1'); // BPF_NOEXIST
    expect(text.filter((t) => t.startsWith('lock'))).toHaveLength(2);
    expect(text[0]).toBe('*(u32 *)(r10 - 16) = r6');
  });

  it('adds a register delta only from a callee-saved register', () => {
    expect(
      incrementCounter({ map: 'bytes', key: R6, keySize: 8, registerDelta: R7 }).map((i) => formatInstruction(i)),
    ).toContain('r1 = r7');
    expect(() => incrementCounter({ map: 'bytes', key: R6, registerDelta: R1 })).toThrow(AsmError);
  });

  it('refuses a stack range outside the frame and a delta beyond 32 bits', () => {
    expect(() => incrementCounter({ map: 'm', key: R6, stackOffset: -8 })).toThrow(/stackOffset/);
    expect(() => incrementCounter({ map: 'm', key: R6, delta: 2 ** 33 })).toThrow(/32-bit/);
  });
});
