import { readFileSync, readlinkSync } from 'node:fs';

/**
 * Upstream's PROCESS text before truncation: `<executable path>:<pid>`, the kernel thread's
 * `comm` when there is no executable, or `<empty>:<pid>` when the process is gone (and for pid 0).
 */
export function processName(pid: number, proc = '/proc'): string {
  if (pid === 0) return '<empty>:0';
  try {
    return `${readlinkSync(`${proc}/${pid}/exe`)}:${pid}`;
  } catch {
    try {
      const stat = readFileSync(`${proc}/${pid}/stat`, 'latin1');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      return `${comm}:${pid}`;
    } catch {
      return `<empty>:${pid}`;
    }
  }
}
