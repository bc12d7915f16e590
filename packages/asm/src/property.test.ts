import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbitraryInstruction, arbitraryLabelledProgram, VALID_OPCODES } from '../test/arbitrary.js';
import { decode, encode } from './encoding.js';
import { DecodeError } from './errors.js';
import { link } from './link.js';
import { assemble } from './text/assemble.js';
import { parse } from './text/parser.js';
import { print } from './text/printer.js';

const program = fc.array(arbitraryInstruction(), { minLength: 1, maxLength: 24 });
const endian = fc.constantFrom('little' as const, 'big' as const);

describe('properties over random valid instructions', () => {
  it('generates all 128 opcodes', () => {
    expect(VALID_OPCODES).toHaveLength(128);
  });

  it('decode(encode(x)) === x in both byte orders', () => {
    fc.assert(
      fc.property(program, endian, (insns, e) => {
        const back = decode(encode(insns, { endian: e }), { endian: e });
        expect(back).toHaveLength(insns.length);
        back.forEach((insn, i) => expect(insn.equals(insns[i]!)).toBe(true));
      }),
      { numRuns: 500 },
    );
  });

  it('assemble(print(x)) encodes to the bytes of x', () => {
    fc.assert(
      fc.property(program, (insns) => {
        const text = print(insns);
        expect(Buffer.from(encode(parse(text).instructions)).toString('hex')).toBe(
          Buffer.from(encode(insns)).toString('hex'),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('text -> instructions -> text is stable: print(parse(print(x))) === print(x)', () => {
    fc.assert(
      fc.property(program, fc.boolean(), (insns, numbered) => {
        const text = print(insns);
        expect(print(parse(text).instructions)).toBe(text);
        // The verifier-style listing of the same program does not depend on the trip through text either.
        if (numbered) {
          expect(print(parse(text).instructions, { numbered })).toBe(print(insns, { numbered }));
          // ...and the numbered listing itself assembles back to the same bytes.
          expect(encode(parse(print(insns, { numbered })).instructions)).toEqual(encode(insns));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('programs with labels, comments and named jumps survive print -> assemble unchanged', () => {
    fc.assert(
      fc.property(arbitraryLabelledProgram(), (insns) => {
        const text = print(insns);
        const parsed = parse(text).instructions;
        expect(print(parsed)).toBe(text);
        expect(parsed.map((i) => [i.symbol, i.comment, i.reference])).toEqual(
          insns.map((i) => [i.symbol, i.comment, i.reference]),
        );
        expect(assemble(text).encode()).toEqual(link(insns).encode());
      }),
      { numRuns: 300 },
    );
  });

  it('decode never throws anything but DecodeError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), endian, (bytes, e) => {
        try {
          const insns = decode(bytes, { endian: e });
          // Whatever decodes must re-encode to the same bytes.
          expect(Buffer.from(encode(insns, { endian: e })).equals(Buffer.from(bytes))).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
          expect((err as DecodeError).index).toBeLessThanOrEqual(Math.floor(bytes.length / 8));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('decode of a valid program with one corrupted byte yields a DecodeError or re-encodable instructions', () => {
    fc.assert(
      fc.property(program, fc.nat(), fc.integer({ min: 0, max: 255 }), (insns, at, value) => {
        const bytes = encode(insns);
        bytes[at % bytes.length] = value;
        try {
          expect(Buffer.from(encode(decode(bytes))).equals(Buffer.from(bytes))).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
