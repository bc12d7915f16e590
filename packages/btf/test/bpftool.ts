/** bpftool as a test oracle: run it when installed, and read its raw dump text independently of our parser. */
import { execFileSync } from 'node:child_process';

function probe(): string | undefined {
  try {
    return /bpftool v(\d+\.\d+)/.exec(execFileSync('bpftool', ['version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  } catch {
    return undefined;
  }
}

const version = probe();

/**
 * True when bpftool 7.1 (Debian bookworm's, the version whose output this package reproduces)
 * runs here. Other versions print some types differently, so live comparisons skip for them.
 */
export const hasBpftool = version === '7.1';
if (!hasBpftool) {
  console.log(
    `skipping live bpftool comparisons: ${version ? `bpftool ${version} is not 7.1` : 'bpftool not installed'}`,
  );
}

/** `bpftool [-j] btf dump file FILE [-B BASE] [format c]` as text. */
export function bpftoolDump(
  file: string,
  options: { base?: string; format?: 'raw' | 'c'; json?: boolean } = {},
): string {
  const args = [...(options.json ? ['-j'] : []), 'btf', 'dump', 'file', file];
  if (options.base) args.push('-B', options.base);
  if (options.format === 'c') args.push('format', 'c');
  return execFileSync('bpftool', args, { maxBuffer: 1 << 30, encoding: 'latin1' });
}

/** One type as bpftool's raw dump prints it. */
export interface DumpedType {
  kind: string;
  name: string;
  /** `type_id=` / `ret_type_id=` of the type line. */
  ref: number;
  /** Indented lines: members/params as [name, type_id]. */
  items: [string, number][];
}

/** Reads bpftool's raw dump text into id → type. */
export function readDump(text: string): Map<number, DumpedType> {
  const out = new Map<number, DumpedType>();
  let cur: DumpedType | undefined;
  for (const line of text.split('\n')) {
    const head = /^\[(\d+)\] (\S+) '([^']*)'(.*)$/.exec(line);
    if (head) {
      const ref = /(?:^| )(?:ret_)?type_id=(\d+)/.exec(head[4]!);
      cur = { kind: head[2]!, name: head[3]!, ref: ref ? Number(ref[1]) : 0, items: [] };
      out.set(Number(head[1]), cur);
      continue;
    }
    const item = /^\t'([^']*)' type_id=(\d+)/.exec(line);
    if (item && cur) cur.items.push([item[1]!, Number(item[2])]);
  }
  return out;
}
