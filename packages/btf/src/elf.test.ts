import { describe, expect, it } from 'vitest';
import { ElfError, elfSection, elfSections, isElf } from './elf.js';
import { makeElf } from '../test/elf-file.js';

const payload = new Uint8Array([1, 2, 3, 4, 5]);

describe('ELF section reader', () => {
  for (const [is64, le] of [
    [true, true],
    [true, false],
    [false, true],
  ] as const) {
    it(`finds a named section in ELF${is64 ? 64 : 32} ${le ? 'LSB' : 'MSB'}`, () => {
      const elf = makeElf(
        [
          { name: '.text', data: new Uint8Array(3) },
          { name: '.BTF', data: payload },
        ],
        { is64, le },
      );
      expect(isElf(elf)).toBe(true);
      expect(elfSections(elf).map((s) => s.name)).toEqual(['', '.text', '.BTF', '.shstrtab']);
      expect([...elfSection(elf, '.BTF')!]).toEqual([...payload]);
      expect(elfSection(elf, '.BTF.ext')).toBeUndefined();
    });
  }

  for (const is64 of [true, false]) {
    it(`follows SHN_XINDEX to the section name table (ELF${is64 ? 64 : 32})`, () => {
      const elf = makeElf([{ name: '.BTF', data: payload }], { is64, xindex: true });
      expect([...elfSection(elf, '.BTF')!]).toEqual([...payload]);
    });
  }

  it('rejects truncated files with a one-line ElfError', () => {
    const elf = makeElf([{ name: '.BTF', data: payload }]);
    expect(() => elfSections(elf.subarray(0, elf.length - 10))).toThrow(ElfError);
    expect(() => elfSections(new Uint8Array([1, 2, 3]))).toThrow(/not an ELF file/);
  });
});
