/**
 * Kernel BTF files mapped rather than read: sysfs hands `/sys/kernel/btf/vmlinux` out a page per
 * read(2), some 1,400 calls for its 5 MiB, while Linux 6.16+ lets it be mapped read-only at once.
 */
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { defaultBackend, type SyscallBackend } from 'bpf-loader-ts';

const PROT_READ = 1;
const MAP_PRIVATE = 2;

/**
 * The bytes of a BTF file: a read-only mapping for `/sys/kernel/btf/*` where the kernel allows
 * one, else the file read as usual. A mapping stays for the life of the process (the BTF is kept
 * for the whole run); nothing may write to it.
 */
export function readBtfFile(path: string, backend: () => SyscallBackend = defaultBackend): Uint8Array {
  if (path.startsWith('/sys/kernel/btf/')) {
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
      const size = fstatSync(fd).size;
      const r = size > 0 ? backend().mmap(size, PROT_READ, MAP_PRIVATE, fd, 0) : -1;
      if (typeof r !== 'number') return new Uint8Array(r.buffer, 0, size);
    } catch {
      // Not mappable here (older kernel, no koffi): read it.
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  return readFileSync(path);
}
