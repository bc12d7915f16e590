import { readFileSync, readlinkSync } from 'node:fs';

/**
 * Upstream's PROCESS text before truncation, `<name>:<pid>`. The name is the executable's path
 * while the process lives (read from /proc when the event is printed), else the command name
 * the BPF program captured with the event (`comm`: the process may have exited since, as short
 * clients and `ping` do), else the command name in /proc, else `<empty>`. For pid 0 (idle tasks
 * and interrupts on idle CPUs) it is the captured command name, e.g. `swapper/1:0`.
 */
export function processName(pid: number, comm = '', proc = '/proc'): string {
  if (pid === 0) return `${comm || '<empty>'}:0`;
  try {
    return `${readlinkSync(`${proc}/${pid}/exe`)}:${pid}`;
  } catch {
    if (comm !== '') return `${comm}:${pid}`;
    try {
      const stat = readFileSync(`${proc}/${pid}/stat`, 'latin1');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      return `${name}:${pid}`;
    } catch {
      return `<empty>:${pid}`;
    }
  }
}
