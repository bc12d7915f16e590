import { describe, expect, it } from 'vitest';
import { BtfError } from './errors.js';
import * as api from './index.js';

/** The exported classes that are errors, by export name: a new one is enumerated here too. */
function exportedErrorClasses(...modules: object[]): Map<string, Function> {
  const out = new Map<string, Function>();
  for (const m of modules)
    for (const [name, value] of Object.entries(m))
      if (typeof value === 'function' && value.prototype instanceof Error) out.set(name, value);
  return out;
}

describe('one error root', () => {
  it('every error class btf-parser exports derives from BtfError', () => {
    const errors = exportedErrorClasses(api);
    expect([...errors.keys()]).toEqual(
      expect.arrayContaining(['BtfNotFoundError', 'KernelBtfNotFoundError', 'ElfError']),
    );
    for (const [name, E] of errors) expect(E === BtfError || E.prototype instanceof BtfError, name).toBe(true);
  });

  it('a malformed blob, a bad ELF and a missing kernel BTF are all caught by the root', () => {
    expect(() => api.Btf.parse(new Uint8Array(4))).toThrow(BtfError);
    expect(() => api.elfSections(Uint8Array.of(0x7f, 0x45, 0x4c, 0x46))).toThrow(api.ElfError);
    expect(() => api.elfSections(Uint8Array.of(0x7f, 0x45, 0x4c, 0x46))).toThrow(BtfError);
    expect(() => api.loadKernelBtf({ candidates: ['/nonexistent/vmlinux'] })).toThrow(BtfError);
  });
});
