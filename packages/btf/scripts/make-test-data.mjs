#!/usr/bin/env node
// Regenerates test/data/ from Debian's linux-image-6.1 kernel package:
//   node scripts/make-test-data.mjs /path/to/linux-image-6.1.0-50-amd64-unsigned_*.deb
// Extracts the package, finds the compressed vmlinux inside the bzImage, decompresses it with xz,
// takes the .BTF section of vmlinux and of one module (split BTF), and writes them gzip-compressed
// with sha256 digests of `bpftool btf dump` over them when bpftool is installed.
// Needs dpkg-deb and xz; run `npx tsup` first (the script uses the package's own ELF reader).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { elfSection } from '../dist/index.js';

const deb = process.argv[2];
if (!deb) {
  console.error('usage: node scripts/make-test-data.mjs linux-image-6.1...deb');
  process.exit(2);
}
const MODULE = 'kernel/net/netfilter/nf_conntrack.ko';
const out = new URL('../test/data/', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'btf-data-'));
try {
  execFileSync('dpkg-deb', ['-x', deb, work]);
  const bootDir = join(work, 'boot');
  const vmlinuz = readdirSync(bootDir).find((n) => n.startsWith('vmlinuz-'));
  const image = readFileSync(join(bootDir, vmlinuz));
  const xzAt = image.indexOf(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
  if (xzAt < 0) throw new Error('no xz payload in the bzImage');
  const vmlinux = execFileSync('xz', ['-dc', '--single-stream'], {
    input: image.subarray(xzAt),
    maxBuffer: 1 << 30,
  });
  const vmlinuxBtf = elfSection(vmlinux, '.BTF');
  const modDir = join(work, 'lib/modules', readdirSync(join(work, 'lib/modules'))[0]);
  const moduleBtf = elfSection(readFileSync(join(modDir, MODULE)), '.BTF');
  const save = (name, bytes) => {
    writeFileSync(join(out, `${name}.btf.gz`), gzipSync(bytes, { level: 9 }));
    writeFileSync(join(work, `${name}.btf`), bytes);
  };
  save('vmlinux-6.1', vmlinuxBtf);
  save('nf_conntrack-6.1', moduleBtf);
  const digest = (args) =>
    createHash('sha256')
      .update(execFileSync('bpftool', args, { maxBuffer: 1 << 30 }))
      .digest('hex');
  const vm = join(work, 'vmlinux-6.1.btf');
  const mod = ['file', join(work, 'nf_conntrack-6.1.btf'), '-B', vm];
  const sums = {
    'vmlinux-6.1.raw': digest(['btf', 'dump', 'file', vm]),
    'nf_conntrack-6.1.raw': digest(['btf', 'dump', ...mod]),
    'vmlinux-6.1.c': digest(['btf', 'dump', 'file', vm, 'format', 'c']),
    'nf_conntrack-6.1.c': digest(['btf', 'dump', ...mod, 'format', 'c']),
    'nf_conntrack-6.1.json': digest(['-j', 'btf', 'dump', ...mod]),
  };
  writeFileSync(join(out, 'bpftool-sha256.json'), `${JSON.stringify(sums, null, 2)}\n`);
  console.log(`wrote ${out}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
