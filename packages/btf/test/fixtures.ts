/** Test fixtures: the committed Debian 6.1 blobs and this machine's kernel BTF when present. */
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Btf } from '../src/btf.js';

const dataDir = new URL('./data/', import.meta.url);

/** Raw bytes of a committed, gzip-compressed blob in test/data. */
export function dataBlob(name: string): Uint8Array {
  return gunzipSync(readFileSync(new URL(`${name}.btf.gz`, dataDir)));
}

let vm61: Btf | undefined;
/** Debian 6.1's vmlinux BTF (parsed once per test file). */
export function vmlinux61(): Btf {
  vm61 ??= Btf.parse(dataBlob('vmlinux-6.1'));
  return vm61;
}

/** Debian 6.1's nf_conntrack module BTF, split on top of {@link vmlinux61}. */
export function nfConntrack61(): Btf {
  return Btf.parse(dataBlob('nf_conntrack-6.1'), { base: vmlinux61() });
}

/** Path of this machine's kernel BTF. */
export const HOST_VMLINUX = '/sys/kernel/btf/vmlinux';

/** True when this machine exposes its kernel BTF. */
export const hasHostBtf = existsSync(HOST_VMLINUX);

let host: Btf | undefined;
/** This machine's vmlinux BTF; only call when {@link hasHostBtf}. */
export function hostBtf(): Btf {
  host ??= Btf.parse(readFileSync(HOST_VMLINUX));
  return host;
}

/** sha256 digests of bpftool's dumps of the committed blobs. */
export const bpftoolDigests = JSON.parse(readFileSync(new URL('bpftool-sha256.json', dataDir), 'utf8')) as Record<
  string,
  string
>;
