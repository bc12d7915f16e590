import { errorFromErrno } from '../errors.js';
import { defaultBackend, type SyscallBackend } from './backend.js';

const RLIMIT_NOFILE = 7;

/**
 * Raises the open-file limit to at least `min` (e.g. 2 fds per kprobe when attaching thousands),
 * raising the hard limit too when privileged. Returns the new soft limit. Never lowers it.
 */
export function raiseOpenFileLimit(min: number, backend: SyscallBackend = defaultBackend()): number {
  const cur = backend.getrlimit(RLIMIT_NOFILE);
  if (typeof cur === 'number') throw errorFromErrno(cur, { operation: 'getrlimit(RLIMIT_NOFILE)' });
  const [soft, hard] = cur;
  if (soft >= min) return soft;
  const newHard = Math.max(hard, min);
  let r = backend.setrlimit(RLIMIT_NOFILE, min, newHard);
  if (r < 0 && newHard !== hard) r = backend.setrlimit(RLIMIT_NOFILE, Math.min(min, hard), hard);
  if (r < 0) throw errorFromErrno(r, { operation: `raise RLIMIT_NOFILE to ${min}` });
  return newHard === hard ? Math.min(min, hard) : min;
}
