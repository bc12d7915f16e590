import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BtfBuilder } from './builder.js';
import { KernelBtfNotFoundError } from './errors.js';
import { KernelBtfCache, kernelBtfPaths, loadBtfFile, loadKernelBtf } from './load.js';
import { makeElf } from '../test/elf-file.js';
import { HOST_VMLINUX, hasHostBtf } from '../test/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'btf-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function blob(name: string): Uint8Array {
  const b = new BtfBuilder();
  b.addStruct(name, 0, []);
  return b.build();
}

describe('kernel BTF discovery', () => {
  it("lists libbpf's locations in libbpf's order", () => {
    expect(kernelBtfPaths('6.1.0-50-amd64')).toEqual([
      '/sys/kernel/btf/vmlinux',
      '/boot/vmlinux-6.1.0-50-amd64',
      '/lib/modules/6.1.0-50-amd64/vmlinux-6.1.0-50-amd64',
      '/lib/modules/6.1.0-50-amd64/build/vmlinux',
      '/usr/lib/modules/6.1.0-50-amd64/kernel/vmlinux',
      '/usr/lib/debug/boot/vmlinux-6.1.0-50-amd64',
      '/usr/lib/debug/boot/vmlinux-6.1.0-50-amd64.debug',
      '/usr/lib/debug/lib/modules/6.1.0-50-amd64/vmlinux',
    ]);
  });

  it('takes the first readable candidate, raw BTF or ELF with .BTF', () => {
    const elf = join(dir, 'vmlinux.elf');
    writeFileSync(elf, makeElf([{ name: '.BTF', data: blob('from_elf') }]));
    const btf = loadKernelBtf({ candidates: [join(dir, 'missing'), elf] });
    expect(btf.findType('from_elf', 'struct')).toBeDefined();
  });

  it('names every path tried when none exists', () => {
    const tried = [join(dir, 'a'), join(dir, 'b')];
    expect(() => loadKernelBtf({ candidates: tried })).toThrow(KernelBtfNotFoundError);
    expect(() => loadKernelBtf({ candidates: tried })).toThrow(`tried ${tried[0]}, ${tried[1]}`);
  });

  it('reports a candidate that exists but is not BTF', () => {
    const junk = join(dir, 'junk');
    writeFileSync(junk, 'not btf at all, just text');
    expect(() => loadKernelBtf({ candidates: [junk] })).toThrow(/junk: bad BTF magic/);
  });

  it('loads an explicit --kernel-btf style file and an ELF without .BTF fails clearly', () => {
    const raw = join(dir, 'kernel.btf');
    writeFileSync(raw, blob('explicit'));
    expect(loadKernelBtf({ path: raw }).findType('explicit', 'struct')).toBeDefined();
    const noBtf = join(dir, 'nobtf.elf');
    writeFileSync(noBtf, makeElf([{ name: '.text', data: new Uint8Array(4) }]));
    expect(() => loadBtfFile(noBtf)).toThrow(/has no .BTF section/);
  });
});

describe('KernelBtfCache', () => {
  it('parses vmlinux once, modules on top of it, and flush() drops them', () => {
    const vmlinux = join(dir, 'vmlinux');
    writeFileSync(vmlinux, blob('base_struct'));
    const cache = new KernelBtfCache({ path: vmlinux, moduleDir: dir });
    const base = cache.vmlinux();
    expect(cache.vmlinux()).toBe(base);
    const mb = new BtfBuilder({ base });
    mb.addStruct('mod_struct', 0, []);
    writeFileSync(join(dir, 'mymod'), mb.build());
    const mod = cache.module('mymod');
    expect(mod.base).toBe(base);
    expect(mod.typeByName('mod_struct', 'struct').id).toBe(2);
    expect(cache.module('mymod')).toBe(mod);
    expect(cache.moduleNames()).toContain('mymod');
    cache.flush();
    expect(cache.vmlinux()).not.toBe(base);
    expect(() => cache.module('../etc/passwd')).toThrow(/bad kernel module name/);
  });

  it('reads vmlinux, modules and candidates through the given reader', () => {
    const vmlinux = join(dir, 'vmlinux-read');
    writeFileSync(vmlinux, blob('read_base'));
    const base = loadKernelBtf({ path: vmlinux });
    const mb = new BtfBuilder({ base });
    mb.addStruct('read_mod', 0, []);
    writeFileSync(join(dir, 'readmod'), mb.build());
    const read: string[] = [];
    const reader = (p: string): Uint8Array => (read.push(p), readFileSync(p));
    const cache = new KernelBtfCache({ path: vmlinux, moduleDir: dir, read: reader });
    expect(cache.module('readmod').findType('read_mod', 'struct')).toBeDefined();
    expect(
      loadKernelBtf({ candidates: [join(dir, 'absent'), vmlinux], read: reader }).findType('read_base', 'struct'),
    ).toBeDefined();
    expect(read).toEqual([vmlinux, join(dir, 'readmod'), join(dir, 'absent'), vmlinux]);
  });

  it.skipIf(!hasHostBtf)('finds this machine’s kernel BTF by default', () => {
    const cache = new KernelBtfCache();
    expect(cache.vmlinux().typeByName('sk_buff', 'struct').size).toBeGreaterThan(100);
    expect(HOST_VMLINUX).toBe(kernelBtfPaths()[0]);
  });
});
