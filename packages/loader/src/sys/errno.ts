/** Linux errno values the loader interprets, by name. */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOSPC: 28,
  ERANGE: 34,
  ENOSYS: 38,
  ELOOP: 40,
  ESTALE: 116,
  EOPNOTSUPP: 95,
  EADDRNOTAVAIL: 99,
  ENOTSUPP: 524,
} as const;

const names = new Map<number, string>(Object.entries(Errno).map(([k, v]) => [v, k]));

const descriptions: Record<number, string> = {
  1: 'operation not permitted',
  2: 'no such file or directory',
  3: 'no such process',
  4: 'interrupted system call',
  5: 'input/output error',
  7: 'argument list too long',
  9: 'bad file descriptor',
  11: 'resource temporarily unavailable',
  12: 'cannot allocate memory',
  13: 'permission denied',
  14: 'bad address',
  16: 'device or resource busy',
  17: 'file exists',
  19: 'no such device',
  22: 'invalid argument',
  23: 'too many open files in system',
  24: 'too many open files',
  28: 'no space left on device',
  34: 'numerical result out of range',
  38: 'function not implemented',
  40: 'too many levels of symbolic links',
  116: 'stale file handle',
  95: 'operation not supported',
  99: 'cannot assign requested address',
  524: 'operation not supported by this kernel (ENOTSUPP)',
};

/** The symbolic name of an errno (`EPERM`), or `errno N` when unknown. */
export function errnoName(errno: number): string {
  return names.get(errno) ?? `errno ${errno}`;
}

/** A short description of an errno, like strerror(3). */
export function errnoDescription(errno: number): string {
  return descriptions[errno] ?? 'unknown error';
}
