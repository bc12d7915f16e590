import { errorFromErrno } from '../errors.js';
import type { SyscallBackend, MappedRegion } from '../sys/backend.js';

/** The page size (x86-64 and the usual arm64 configuration). */
export const PAGE_SIZE = 4096;

/** mmap constants and a throwing wrapper. */
export const Mmap = {
  PROT_READ: 1,
  PROT_WRITE: 2,
  MAP_SHARED: 1,
  /** mmap(NULL, length, prot, MAP_SHARED, fd, offset), throwing a typed error. */
  map(backend: SyscallBackend, length: number, prot: number, fd: number, offset: number, what: string): MappedRegion {
    const r = backend.mmap(length, prot, 1, fd, offset);
    if (typeof r === 'number') {
      throw errorFromErrno(r, {
        operation: `mmap ${what} (${length} bytes)`,
        hints: {
          ENOMEM: 'not enough locked memory; raise RLIMIT_MEMLOCK or the buffer is too large',
          EPERM: 'mapping needs root/CAP_BPF',
        },
      });
    }
    return r;
  },
};
