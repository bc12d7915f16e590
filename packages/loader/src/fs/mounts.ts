/**
 * The kernel file systems BPF tools need — tracefs (tracepoint ids, kprobe lists) and bpffs
 * (pinning) — found wherever they are mounted, and mounted on request by a privileged caller.
 *
 * A freshly booted machine or a container often has neither mounted although the kernel supports
 * both, so "not found" is reported as *not mounted* (with the command that fixes it), never as a
 * missing kernel feature.
 */
import { existsSync, readFileSync } from 'node:fs';
import { BpfError, errorFromErrno } from '../errors.js';
import { defaultBackend, type SyscallBackend } from '../sys/backend.js';

/** One line of `/proc/self/mounts`. */
export interface MountEntry {
  /** What was mounted (`tracefs`, `bpf`, a device). */
  readonly source: string;
  /** Where it is mounted. */
  readonly target: string;
  /** The file-system type (`tracefs`, `debugfs`, `bpf`, ...). */
  readonly fstype: string;
}

/** The places tracefs is conventionally mounted, in the order they are tried. */
export const TRACEFS_PATHS: readonly string[] = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

/** Where bpffs is conventionally mounted. */
export const BPFFS_PATH = '/sys/fs/bpf';

/** tracefs or bpffs is not mounted where a tool looks for it. */
export class NotMountedError extends BpfError {
  /** `tracefs` or `bpffs`. */
  readonly fs: 'tracefs' | 'bpffs';
  constructor(fs: 'tracefs' | 'bpffs', message: string) {
    super(message);
    this.fs = fs;
  }
}

// mount(2) flags: what `mount -t tracefs` and systemd use for these pseudo file systems.
const MS_NOSUID = 0x2;
const MS_NODEV = 0x4;
const MS_NOEXEC = 0x8;
const MS_RELATIME = 0x200000;
const PSEUDO_FS_FLAGS = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME;

/** Parses `/proc/self/mounts` text (octal escapes such as `\040` for a space decoded). */
export function parseMounts(text: string): MountEntry[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const [source, target, fstype] = line.split(' ');
    if (source === undefined || target === undefined || fstype === undefined) continue;
    out.push({ source: unescape(source), target: unescape(target), fstype });
  }
  return out;
}

/** The calling process's mounts (empty when /proc is not mounted). */
export function readMounts(): MountEntry[] {
  try {
    return parseMounts(readFileSync('/proc/self/mounts', 'utf8'));
  } catch {
    return [];
  }
}

/**
 * Where tracefs is mounted: `/sys/kernel/tracing`, then `/sys/kernel/debug/tracing` (debugfs's
 * automount, on kernels that still have it), then any other tracefs mount; `undefined` if none.
 */
export function findTracefs(mounts: readonly MountEntry[] = readMounts()): string | undefined {
  for (const p of TRACEFS_PATHS) if (existsSync(`${p}/README`)) return p;
  return mounts.find((m) => m.fstype === 'tracefs' && existsSync(`${m.target}/README`))?.target;
}

/** Where tracefs is mounted; throws {@link NotMountedError} saying how to mount it when it is not. */
export function tracefsRoot(): string {
  const root = findTracefs();
  if (root !== undefined) return root;
  throw new NotMountedError(
    'tracefs',
    `tracefs is not mounted (looked at ${TRACEFS_PATHS.join(' and ')}): as root, mount it with ` +
      `'mount -t tracefs tracefs /sys/kernel/tracing' or call mountTracefs()`,
  );
}

/** Where a bpffs is mounted (`/sys/fs/bpf` first); `undefined` if none. */
export function findBpffs(mounts: readonly MountEntry[] = readMounts()): string | undefined {
  const bpf = mounts.filter((m) => m.fstype === 'bpf');
  return (bpf.find((m) => m.target === BPFFS_PATH) ?? bpf[0])?.target;
}

/** Where bpffs is mounted; throws {@link NotMountedError} saying how to mount it when it is not. */
export function bpffsRoot(): string {
  const root = findBpffs();
  if (root !== undefined) return root;
  throw new NotMountedError(
    'bpffs',
    `bpffs is not mounted (no 'bpf' file system in /proc/self/mounts): as root, mount it with ` +
      `'mount -t bpf bpf ${BPFFS_PATH}' or call mountBpffs()`,
  );
}

/** Options of {@link mountTracefs} and {@link mountBpffs}. */
export interface MountOptions {
  /** Where to mount it (default: `/sys/kernel/tracing`, or `/sys/fs/bpf` for bpffs). */
  readonly path?: string;
  /** The syscall backend (tests). */
  readonly backend?: SyscallBackend;
}

/** What a mount call did. */
export interface MountResult {
  /** Where the file system is now mounted. */
  readonly path: string;
  /** True when this call mounted it; false when it was mounted already. */
  readonly mounted: boolean;
}

function mountFs(fs: 'tracefs' | 'bpffs', fstype: string, path: string, backend: SyscallBackend): void {
  const r = backend.mount(fstype, path, fstype, PSEUDO_FS_FLAGS);
  if (r >= 0) return;
  const cmd = `mount -t ${fstype} ${fstype} ${path}`;
  throw errorFromErrno(r, {
    operation: `mount ${fs} at ${path}`,
    hints: {
      EPERM: `mounting needs root (CAP_SYS_ADMIN in the initial mount namespace's owner); ask an administrator to run '${cmd}'`,
      ENODEV: `this kernel was built without ${fs} (${fs === 'tracefs' ? 'CONFIG_TRACING' : 'CONFIG_BPF_SYSCALL'})`,
      ENOENT: `${path} does not exist (is sysfs mounted at /sys?)`,
    },
  });
}

/**
 * Makes sure tracefs is mounted, mounting it at `path` (default `/sys/kernel/tracing`) when it is
 * mounted nowhere. Needs root (CAP_SYS_ADMIN). Errors are the package's typed syscall errors,
 * with a hint saying what to do.
 */
export function mountTracefs(opts: MountOptions = {}): MountResult {
  const existing = findTracefs();
  if (existing !== undefined) return { path: existing, mounted: false };
  const path = opts.path ?? TRACEFS_PATHS[0]!;
  mountFs('tracefs', 'tracefs', path, opts.backend ?? defaultBackend());
  return { path, mounted: true };
}

/**
 * Makes sure a bpffs is mounted, mounting one at `path` (default `/sys/fs/bpf`) when none is.
 * Needs root (CAP_SYS_ADMIN).
 */
export function mountBpffs(opts: MountOptions = {}): MountResult {
  const existing = findBpffs();
  if (existing !== undefined && (opts.path === undefined || opts.path === existing))
    return { path: existing, mounted: false };
  const path = opts.path ?? BPFFS_PATH;
  mountFs('bpffs', 'bpf', path, opts.backend ?? defaultBackend());
  return { path, mounted: true };
}
