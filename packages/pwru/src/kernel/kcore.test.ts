import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Kcore, KcoreError, parseElfHeader } from './kcore.js';

/** An ELF64 core like /proc/kcore: a PT_NOTE, then PT_LOAD segments holding `segments`' bytes. */
function fakeKcore(segments: Array<{ vaddr: bigint; bytes: Uint8Array }>): string {
  const phnum = segments.length + 1;
  const dataAt = 64 + 56 * phnum;
  const size = dataAt + segments.reduce((n, s) => n + s.bytes.length, 0);
  const buf = new Uint8Array(size);
  const v = new DataView(buf.buffer);
  buf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  v.setUint16(16, 4, true); // ET_CORE
  v.setUint16(18, 62, true); // EM_X86_64
  v.setBigUint64(32, 64n, true); // e_phoff
  v.setUint16(54, 56, true);
  v.setUint16(56, phnum, true);
  v.setUint32(64, 4, true); // PT_NOTE
  let off = dataAt;
  segments.forEach((s, i) => {
    const ph = 64 + 56 * (i + 1);
    v.setUint32(ph, 1, true); // PT_LOAD
    v.setBigUint64(ph + 8, BigInt(off), true);
    v.setBigUint64(ph + 16, s.vaddr, true);
    v.setBigUint64(ph + 32, BigInt(s.bytes.length), true);
    v.setBigUint64(ph + 40, BigInt(s.bytes.length), true);
    buf.set(s.bytes, off);
    off += s.bytes.length;
  });
  const path = join(mkdtempSync(join(tmpdir(), 'pwru-kcore-')), 'kcore');
  writeFileSync(path, buf);
  return path;
}

describe('Kcore', () => {
  const text = Uint8Array.from({ length: 64 }, (_, i) => i);
  const bpf = Uint8Array.from([0x55, 0xe8, 1, 2, 3, 4, 0xc3]);
  const path = fakeKcore([
    { vaddr: 0xffffffffc0000000n, bytes: bpf },
    { vaddr: 0xffffffff81000000n, bytes: text },
  ]);

  it('reads kernel memory by virtual address through the PT_LOAD segments', () => {
    using k = Kcore.open(path);
    expect(k.segments.map((s) => s.vaddr)).toEqual([0xffffffff81000000n, 0xffffffffc0000000n]);
    expect([...k.read(0xffffffffc0000001n, 5)]).toEqual([0xe8, 1, 2, 3, 4]);
    expect([...k.read(0xffffffff81000000n + 60n, 4)]).toEqual([60, 61, 62, 63]);
  });

  it('refuses addresses outside every segment', () => {
    using k = Kcore.open(path);
    expect(k.segmentOf(0xffffffff81000000n + 60n, 8)).toBeUndefined();
    expect(() => k.read(0xffffffff81000000n + 60n, 8)).toThrow(/has no segment for 0xffffffff8100003c \(\+8\)/);
  });

  it('says what is wrong with a missing or non-ELF file', () => {
    expect(() => Kcore.open('/nonexistent/kcore')).toThrow(
      new KcoreError('cannot open /nonexistent/kcore: the kernel has no CONFIG_PROC_KCORE'),
    );
    const junk = join(mkdtempSync(join(tmpdir(), 'pwru-kcore-')), 'junk');
    writeFileSync(junk, new Uint8Array(128));
    expect(() => Kcore.open(junk)).toThrow(`${junk}: not an ELF file`);
    expect(() => parseElfHeader(Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 1, 1, ...new Array(58).fill(0)]))).toThrow(
      'not a 64-bit little-endian ELF file',
    );
  });
});
