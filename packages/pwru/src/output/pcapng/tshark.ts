/**
 * tshark as a test oracle: reads a pcapng file and returns chosen fields per packet, and any
 * warning tshark printed. Used by tests only (tshark is in tools/deps/apt-packages).
 */
import { spawnSync } from 'node:child_process';

/** Whether tshark can be run. */
export function haveTshark(): boolean {
  return spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** What tshark said about a file. */
export interface TsharkRead {
  /** One row per packet, one value per asked field (`,`-joined when a field repeats). */
  readonly rows: string[][];
  /** stderr, minus tshark's "running as root" notice. */
  readonly warnings: string;
  readonly status: number | null;
}

/** `tshark -r file -T fields -e ...` (the file can also be `-` with `input`). */
export function tsharkFields(file: string, fields: readonly string[], input?: Uint8Array): TsharkRead {
  const args = ['-r', file, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const f of fields) args.push('-e', f);
  const r = spawnSync('tshark', args, { input, maxBuffer: 64 << 20, env: { ...process.env, LC_ALL: 'C' } });
  const warnings = r.stderr
    .toString()
    .split('\n')
    .filter((l) => l !== '' && !/^Running as user "root"/.test(l))
    .join('\n');
  const out = r.stdout.toString();
  const rows =
    out === ''
      ? []
      : out
          .replace(/\n$/, '')
          .split('\n')
          .map((l) => l.split('\t'));
  return { rows, warnings, status: r.status };
}
