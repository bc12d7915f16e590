import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultBackend } from 'bpf-loader-ts';
import { Btf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { readBtfFile } from './btf-file.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';

describe('readBtfFile', () => {
  it.skipIf(!existsSync(VMLINUX) || process.getuid?.() !== 0)(
    'maps vmlinux BTF, byte for byte what reading it gives, and it parses',
    () => {
      let mapped = 0;
      const bytes = readBtfFile(VMLINUX, () => {
        // The real backend, counting the mappings it makes.
        const b = defaultBackend();
        return { ...b, mmap: (...a: Parameters<typeof b.mmap>) => (mapped++, b.mmap(...a)) } as typeof b;
      });
      expect(Buffer.from(bytes).equals(readFileSync(VMLINUX))).toBe(true);
      expect(Btf.parse(bytes).typeByName('sk_buff', 'struct').size).toBeGreaterThan(100);
      expect(mapped).toBe(1);
    },
  );

  it('reads a file outside /sys/kernel/btf without mapping it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pwru-btf-file-'));
    try {
      writeFileSync(join(dir, 'x.btf'), 'abc');
      const bytes = readBtfFile(join(dir, 'x.btf'), () => {
        throw new Error('no syscall backend expected');
      });
      expect(Buffer.from(bytes).toString()).toBe('abc');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!existsSync(VMLINUX))('reads vmlinux when the kernel refuses the mapping', () => {
    const bytes = readBtfFile(VMLINUX, () => ({ mmap: () => -19 }) as never);
    expect(bytes.length).toBe(readFileSync(VMLINUX).length);
  });
});
