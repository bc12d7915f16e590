import { mkdtempSync, symlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The only commands a user of `npx pwru` is assumed to have: Node with npm, a POSIX shell and
 * coreutils (npm runs package scripts and bins through `sh`), and the network tools a tracer's
 * user typically has. No compiler, no Go, no libpcap tools.
 */
export const ALLOWED_COMMANDS = [
  'node',
  'npm',
  'npx',
  'sh',
  'env',
  'cat',
  'ls',
  'mkdir',
  'rm',
  'cp',
  'mv',
  'ln',
  'chmod',
  'uname',
  'id',
  'head',
  'tail',
  'sleep',
  'true',
  'false',
  'dirname',
  'basename',
  'readlink',
  'ip',
  'iptables',
] as const;

/** Commands that must not be reachable: the toolchains upstream pwru's build needs, and libpcap's tools. */
export const MASKED_COMMANDS = [
  'gcc',
  'cc',
  'c++',
  'clang',
  'llc',
  'ld',
  'make',
  'go',
  'tcpdump',
  'pcap-config',
  'python3',
] as const;

/** Where `command` lives on the current PATH, or undefined. */
export function which(command: string, path = process.env.PATH ?? ''): string | undefined {
  try {
    return (
      execFileSync('/bin/sh', ['-c', `command -v ${command}`], { encoding: 'utf8', env: { PATH: path } }).trim() ||
      undefined
    );
  } catch {
    return undefined;
  }
}

/**
 * Creates a directory of symlinks to {@link ALLOWED_COMMANDS} (those present on this machine)
 * and returns it, to be used as the whole PATH: everything else, compilers included, is masked.
 */
export function maskedPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pwru-pack-bin-'));
  for (const c of ALLOWED_COMMANDS) {
    const target = which(c);
    if (target) symlinkSync(target, join(dir, c));
  }
  return dir;
}

/**
 * The environment of a clean machine's shell: this one's (proxy and CA settings included) with
 * PATH replaced and without the `npm_*` variables that `npm run` adds, so the inner npm sees no
 * trace of this repository's configuration or workspaces.
 */
export function cleanEnv(path: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_/i.test(k) && k !== 'INIT_CWD' && k !== 'NODE' && k !== 'PATH') env[k] = v;
  }
  env.PATH = path;
  return env;
}
