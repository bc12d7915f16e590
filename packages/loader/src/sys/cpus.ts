import { readFileSync } from 'node:fs';

/** Parses a kernel CPU list such as `0-3,8,10-11` into CPU numbers. */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-');
    const lo = Number(a);
    const hi = b === undefined ? lo : Number(b);
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo) throw new RangeError(`bad CPU list: ${text}`);
    for (let c = lo; c <= hi; c++) out.push(c);
  }
  return out;
}

let possible: number | undefined;

/** Number of possible CPUs: the size of per-CPU map values and of a perf event array. */
export function possibleCpus(): number {
  if (possible === undefined) {
    const cpus = parseCpuList(readFileSync('/sys/devices/system/cpu/possible', 'utf8'));
    possible = cpus[cpus.length - 1]! + 1;
  }
  return possible;
}

/** CPUs currently online (perf buffers open one ring per online CPU). */
export function onlineCpus(): number[] {
  return parseCpuList(readFileSync('/sys/devices/system/cpu/online', 'utf8'));
}
