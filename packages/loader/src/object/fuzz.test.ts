// Malformed objects must fail with the loader's typed errors (rooted at BpfError), never with a
// TypeError/RangeError or a hang.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OBJECT_DIR } from '../../test/object/core-checks.js';
import { parseElf } from '../elf/elf.js';
import { BpfError } from '../errors.js';
import { parseBtfExt } from './btf-ext.js';
import { parseObject } from './parse.js';

const objects = ['globals.bpf.o', 'core.bpf.o', 'drops.bpf.o'].map(
  (f) => new Uint8Array(readFileSync(join(OBJECT_DIR, f))),
);

function typedOrOk(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch (e) {
    if (e instanceof BpfError) return true;
    throw e;
  }
}

const mutation = fc.record({
  object: fc.integer({ min: 0, max: objects.length - 1 }),
  edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 16 }),
  cut: fc.option(fc.nat(), { nil: undefined }),
});

function mutate(m: { object: number; edits: [number, number][]; cut?: number }): Uint8Array {
  const src = objects[m.object]!;
  let b = src.slice();
  for (const [at, v] of m.edits) b[at % b.length] = v;
  if (m.cut !== undefined) b = b.slice(0, m.cut % b.length);
  return b;
}

describe('fuzzing the object parsers', () => {
  it('parseObject on mutated and truncated objects', () => {
    fc.assert(
      fc.property(mutation, (m) => typedOrOk(() => parseObject(mutate(m)))),
      { numRuns: 1500 },
    );
  });

  it('parseElf (no catch-all around it) on mutated and truncated objects', () => {
    fc.assert(
      fc.property(mutation, (m) => typedOrOk(() => parseElf(mutate(m)))),
      { numRuns: 3000 },
    );
  });

  it('parseObject on mutations aimed at .BTF and .BTF.ext', () => {
    const base = objects[0]!;
    const elf = parseElf(base);
    const btfRange = elf.sections
      .filter((s) => s.name === '.BTF' || s.name === '.BTF.ext')
      .map((s) => [s.data.byteOffset, s.size] as const);
    const aimed = fc.record({
      sec: fc.integer({ min: 0, max: btfRange.length - 1 }),
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
    });
    fc.assert(
      fc.property(aimed, ({ sec, edits }) => {
        const b = base.slice();
        const [off, size] = btfRange[sec]!;
        for (const [at, v] of edits) b[off + (at % size)] = v;
        return typedOrOk(() => parseObject(b));
      }),
      { numRuns: 1500 },
    );
  });

  it('parseBtfExt on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (b) => typedOrOk(() => parseBtfExt(b, () => 'sec'))),
      { numRuns: 2000 },
    );
  });

  it('rejects non-BPF ELF files and ELF32 with a clear message', () => {
    const b = objects[0]!.slice();
    b[0x12] = 62; // EM_X86_64
    expect(() => parseObject(b)).toThrow(/not BPF \(247\)/);
    const c = objects[0]!.slice();
    c[4] = 1;
    expect(() => parseObject(c)).toThrow(/not a 64-bit ELF/);
  });
});
