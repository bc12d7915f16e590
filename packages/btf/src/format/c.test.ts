import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Btf } from '../btf.js';
import { BtfBuilder } from '../builder.js';
import { formatC } from './c.js';
import { HOST_VMLINUX, bpftoolDigests, hasHostBtf, hostBtf, nfConntrack61, vmlinux61 } from '../../test/fixtures.js';
import { bpftoolDump, hasBpftool } from '../../test/bpftool.js';
import { everyKindBlob } from '../../test/every-kind.js';

const dir = mkdtempSync(join(tmpdir(), 'btf-c-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function hasGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const gcc = hasGcc();

/** Runs `gcc -fsyntax-only` on a header; returns gcc's complaints ('' when it compiles). */
function compile(header: string, name: string): string {
  const file = join(dir, name);
  writeFileSync(file, header, 'latin1');
  try {
    execFileSync('gcc', ['-fsyntax-only', '-x', 'c', file], { stdio: 'pipe' });
    return '';
  } catch (e) {
    return String((e as { stderr?: Buffer }).stderr ?? e);
  }
}

const sha256 = (s: string): string => createHash('sha256').update(s, 'latin1').digest('hex');
const body = (h: string): string => h.split('#endif\n\n')[1]!.split('#ifndef BPF_NO_PRESERVE_ACCESS_INDEX')[0]!;

describe('formatC', () => {
  it('orders definitions so embedded types come first and pointers get forward declarations', () => {
    const b = new BtfBuilder();
    const int = b.addInt('int', 4, { signed: true });
    const nodePtr = b.addPtr(b.nextTypeId + 2);
    const inner = b.addStruct('inner', 4, [{ name: 'v', type: int, bitOffset: 0 }]);
    const node = b.addStruct('node', 16, [
      { name: 'next', type: nodePtr, bitOffset: 0 },
      { name: 'in', type: inner, bitOffset: 64 },
    ]);
    b.addTypedef('node_t', node);
    const h = formatC(Btf.parse(b.build()));
    expect(body(h)).toBe(
      'struct inner {\n\tint v;\n};\n\nstruct node {\n\tstruct node *next;\n\tstruct inner in;\n};\n\ntypedef struct node node_t;\n\n',
    );
  });

  it('spells function pointers, arrays, bitfields, anonymous members and enums in C', () => {
    const { bytes } = everyKindBlob();
    const h = formatC(Btf.parse(bytes));
    expect(h).toContain('struct pair {\n\tint a;\n\tunsigned int flags: 3;\n\tunsigned int more: 29;\n};');
    expect(h).toContain('enum color {\n\tRED = -1,\n\tGREEN = 2,\n};');
    expect(h).toContain('enum big {\n\tHUGE = 281474976710655ULL,\n\tALL = 18446744073709551615ULL,\n};');
    expect(h.startsWith('#ifndef __VMLINUX_H__\n')).toBe(true);
    expect(h.endsWith('#endif /* __VMLINUX_H__ */\n')).toBe(true);
  });

  it.skipIf(!hasBpftool)('matches bpftool format c on a blob with every kind', () => {
    const { bytes } = everyKindBlob();
    writeFileSync(join(dir, 'every.btf'), bytes);
    expect(formatC(Btf.parse(bytes))).toBe(bpftoolDump(join(dir, 'every.btf'), { format: 'c' }));
  });

  it("matches the digest of bpftool's format c for Debian 6.1 vmlinux and its nf_conntrack module", () => {
    expect(sha256(formatC(vmlinux61()))).toBe(bpftoolDigests['vmlinux-6.1.c']);
    expect(sha256(formatC(nfConntrack61()))).toBe(bpftoolDigests['nf_conntrack-6.1.c']);
  });

  it.skipIf(!hasHostBtf || !gcc)('writes a vmlinux.h for this machine that gcc compiles', () => {
    const h = formatC(hostBtf());
    expect(compile(h, 'vmlinux.h')).toBe('');
    if (hasBpftool) expect(h === bpftoolDump(HOST_VMLINUX, { format: 'c' })).toBe(true);
  });

  it.skipIf(!gcc)('writes headers gcc compiles for the every-kind blob and Debian 6.1', () => {
    expect(compile(formatC(Btf.parse(everyKindBlob().bytes)), 'every.h')).toBe('');
    expect(compile(formatC(vmlinux61()), 'vmlinux61.h')).toBe('');
  });
});
