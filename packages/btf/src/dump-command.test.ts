import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Btf } from './btf.js';
import { runBtfDump } from './dump-command.js';
import { formatC } from './format/c.js';
import { formatRaw } from './format/raw.js';
import { dataBlob, nfConntrack61 } from '../test/fixtures.js';
import { everyKindBlob } from '../test/every-kind.js';
import { makeElf } from '../test/elf-file.js';

const dir = mkdtempSync(join(tmpdir(), 'btf-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runBtfDump(argv, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

describe('btf-dump', () => {
  it('prints the raw dump of a file', async () => {
    const { bytes } = everyKindBlob();
    const file = join(dir, 'every.btf');
    writeFileSync(file, bytes);
    const r = await run(file);
    expect(r).toEqual({ code: 0, out: formatRaw(Btf.parse(bytes)), err: '' });
  });

  it('dumps a module with --base, and says what to do without it', async () => {
    writeFileSync(join(dir, 'vmlinux'), dataBlob('vmlinux-6.1'));
    writeFileSync(join(dir, 'mod'), dataBlob('nf_conntrack-6.1'));
    const r = await run(join(dir, 'mod'), '--base', join(dir, 'vmlinux'));
    expect(r.out).toBe(formatRaw(nfConntrack61()));
    const bare = await run(join(dir, 'mod'));
    expect(bare.code).toBe(1);
    expect(bare.err).toMatch(/^btf-dump: .*mod: string section does not start .*give its base.*\n$/);
  });

  it('prints a C header with --format c', async () => {
    const { bytes } = everyKindBlob();
    const file = join(dir, 'every-c.btf');
    writeFileSync(file, bytes);
    const r = await run(file, '--format', 'c');
    expect(r.code).toBe(0);
    expect(r.out).toBe(formatC(Btf.parse(bytes)));
  });

  it('reads the .BTF section of an ELF file', async () => {
    const { bytes } = everyKindBlob();
    const file = join(dir, 'with-btf.o');
    writeFileSync(
      file,
      makeElf([
        { name: '.text', data: new Uint8Array(8) },
        { name: '.BTF', data: bytes },
      ]),
    );
    expect((await run(file)).out).toBe(formatRaw(Btf.parse(bytes)));
  });

  it('reports bad usage with exit code 2 and the usage text', async () => {
    const r = await run('--fromat', 'c', 'x');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^btf-dump: Unknown option '--fromat'/);
    expect(r.err).toContain('usage: btf-dump FILE');
    expect((await run()).err).toMatch(/missing FILE/);
    expect((await run('-f', 'xml', 'x')).err).toMatch(/unknown format 'xml'/);
  });

  it('reports unreadable and non-BTF files in one line', async () => {
    const r = await run(join(dir, 'absent'));
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/cannot read BTF file/);
  });
});
