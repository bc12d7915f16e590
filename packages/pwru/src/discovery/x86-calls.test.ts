import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { directCallTargets, instructionLength, sweep } from './x86-calls.js';

const fixture = (name: string): string => readFileSync(new URL(`../../test/fixtures/${name}`, import.meta.url), 'utf8');

/** Per-instruction encodings from llvm-mc's `-show-encoding` output. */
function encodings(text: string): number[][] {
  return [...text.matchAll(/# encoding: \[([^\]]*)\]/g)].map((m) => m[1]!.split(',').map((b) => Number(b)));
}

const sample = encodings(fixture('x86-jit-sample.enc.txt'));
const hex = (s: string): Uint8Array => Uint8Array.from(s.trim().split(/\s+/), (b) => parseInt(b, 16));

describe('x86-64 instruction lengths (llvm-mc as the oracle)', () => {
  it("decodes every instruction of the JIT-like sample at llvm-mc's boundaries", () => {
    expect(sample.length).toBeGreaterThan(50);
    const code = Uint8Array.from(sample.flat());
    const r = sweep(code, 0n);
    expect(r.stoppedAt).toBeUndefined();
    expect(r.instructions.map((i) => i.length)).toEqual(sample.map((e) => e.length));
  });

  it('the committed encodings are what llvm-mc gives today (when it is installed)', () => {
    let live: string;
    try {
      live = execFileSync(
        'llvm-mc-19',
        [
          '-triple',
          'x86_64',
          '-show-encoding',
          new URL('../../test/fixtures/x86-jit-sample.s', import.meta.url).pathname,
        ],
        { encoding: 'utf8' },
      );
    } catch {
      return; // the fixture stands alone without llvm-mc (CI does not install it)
    }
    expect(encodings(live)).toEqual(sample);
  });

  it('knows the JIT prologue nop, jumps of both widths and the call', () => {
    for (const [bytes, len] of [
      ['0f 1f 44 00 00', 5],
      ['74 10', 2],
      ['0f 84 00 01 00 00', 6],
      ['eb fe', 2],
      ['e9 00 00 00 00', 5],
      ['e8 00 00 00 00', 5],
      ['66 90', 2],
      ['c4 e2 f9 f7 c7', 5],
    ] as const) {
      expect(instructionLength(hex(bytes), 0), bytes).toBe(len);
    }
  });

  it('stops at bytes it does not know, and on a truncated instruction', () => {
    expect(sweep(hex('55 06 c3'), 0n)).toEqual({ instructions: [{ offset: 0, length: 1 }], stoppedAt: 1 });
    expect(sweep(hex('48 8b'), 0n).stoppedAt).toBe(0);
    expect(instructionLength(hex('e8 00 00'), 0)).toBe(-1);
  });
});

describe('directCallTargets', () => {
  it('resolves call rel32 (forward and backward) from the next instruction, once each', () => {
    // 0x1000: push rbp; call +0x10; mov rax, [rdi+8]; call -0x20; call +0x10 again (same target? no: other site); int3
    const code = hex('55  e8 10 00 00 00  48 8b 47 08  e8 e0 ff ff ff  cc');
    const targets = directCallTargets(code, 0xffffffffc0001000n);
    expect(targets).toEqual([0xffffffffc0001000n + 6n + 0x10n, 0xffffffffc0001000n + 15n - 0x20n]);
  });

  it('does not take an E8 byte inside another instruction for a call', () => {
    // mov eax, 0xe8e8e8e8 holds E8 bytes in its immediate; lea rsi, [rax - 0x18] (disp8 0xe8)
    expect(directCallTargets(hex('b8 e8 e8 e8 e8  48 8d 70 e8  c3'), 0n)).toEqual([]);
  });

  it('skips a byte it does not know and finds the calls after it', () => {
    expect(directCallTargets(hex('06  e8 00 00 00 00'), 0x100n)).toEqual([0x106n]);
  });

  it('wraps targets to 64 bits (kernel addresses near the top)', () => {
    expect(directCallTargets(hex('e8 00 00 00 10'), 0xfffffffff8000000n)).toEqual([
      BigInt.asUintN(64, 0xfffffffff8000000n + 5n + 0x10000000n),
    ]);
  });
});
