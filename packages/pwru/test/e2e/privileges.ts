import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Why pwru cannot be run as an unprivileged user here (root and setpriv are needed), or undefined. */
export function unprivilegedSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (to drop to nobody with setpriv)';
  if (!existsSync('/usr/bin/setpriv')) return 'needs /usr/bin/setpriv';
  return undefined;
}

/** Runs the pwru CLI as user and group nobody with no capabilities; resolves to its status and output. */
export function runAsNobody(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const bin = new URL('../../bin/pwru.js', import.meta.url).pathname;
  const r = spawnSync(
    '/usr/bin/setpriv',
    ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, bin, ...args],
    { encoding: 'utf8', timeout: 60_000 },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
