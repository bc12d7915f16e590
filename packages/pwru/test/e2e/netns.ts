import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Why an end-to-end test cannot run here, or undefined when it can. */
export function e2eSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const tool of ['/usr/sbin/ip', '/usr/sbin/iptables']) if (!existsSync(tool)) return `needs ${tool}`;
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'needs kernel BTF';
  return undefined;
}

const sh = (cmd: string, args: string[]): string =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/**
 * Two network namespaces joined by a veth pair, with addresses only inside them:
 * `a` = 10.231.<n>.1 (and fd31:<n>::1) in `nsA`, `b` = 10.231.<n>.2 (fd31:<n>::2) in `nsB`.
 */
export class NetnsPair {
  readonly nsA: string;
  readonly nsB: string;
  readonly a: string;
  readonly b: string;
  readonly a6: string;
  readonly b6: string;
  readonly vethA: string;
  readonly vethB: string;

  constructor() {
    const n = 1 + (process.pid % 250);
    const tag = `${process.pid % 100000}`;
    this.nsA = `pwru-e2e-a-${tag}`;
    this.nsB = `pwru-e2e-b-${tag}`;
    this.vethA = `pwa${tag}`;
    this.vethB = `pwb${tag}`;
    this.a = `10.231.${n}.1`;
    this.b = `10.231.${n}.2`;
    this.a6 = `fd31:${n.toString(16)}::1`;
    this.b6 = `fd31:${n.toString(16)}::2`;
    this.destroy();
    sh('ip', ['netns', 'add', this.nsA]);
    sh('ip', ['netns', 'add', this.nsB]);
    sh('ip', [
      'link',
      'add',
      this.vethA,
      'netns',
      this.nsA,
      'type',
      'veth',
      'peer',
      'name',
      this.vethB,
      'netns',
      this.nsB,
    ]);
    for (const [ns, dev, v4, v6] of [
      [this.nsA, this.vethA, this.a, this.a6],
      [this.nsB, this.vethB, this.b, this.b6],
    ] as const) {
      this.exec(ns, ['ip', 'addr', 'add', `${v4}/24`, 'dev', dev]);
      this.exec(ns, ['ip', '-6', 'addr', 'add', `${v6}/64`, 'dev', dev, 'nodad']);
      this.exec(ns, ['ip', 'link', 'set', dev, 'up']);
      this.exec(ns, ['ip', 'link', 'set', 'lo', 'up']);
    }
  }

  /** Runs a command inside a namespace. */
  exec(ns: string, argv: string[]): string {
    return sh('ip', ['netns', 'exec', ns, ...argv]);
  }

  /** Sends one TCP SYN (a connect attempt that times out) from `nsA` to `host:port`. */
  connect(host: string, port: number): void {
    const js = `const s=require('net').connect({host:${JSON.stringify(host)},port:${port}});s.on('error',()=>{});setTimeout(()=>process.exit(0),600);`;
    try {
      this.exec(this.nsA, [process.execPath, '-e', js]);
    } catch {
      // A refused or dropped connection is the point.
    }
  }

  /** Removes both namespaces (and with them the veth pair and every rule inside). */
  destroy(): void {
    for (const ns of [this.nsA, this.nsB]) {
      try {
        sh('ip', ['netns', 'del', ns]);
      } catch {
        // Not there.
      }
    }
  }
}

/** A running `pwru` with its collected output. */
export class PwruProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly readyFile: string;

  /**
   * Starts pwru with `args`. `withoutTracefs`: in a private mount namespace (`unshare -m`) where
   * every tracefs and debugfs mount is removed first, as on a freshly booted machine; the rest
   * of the system keeps its mounts.
   */
  constructor(args: string[], opts: { withoutTracefs?: boolean } = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'pwru-e2e-'));
    this.readyFile = join(dir, 'ready');
    const bin = new URL('../../bin/pwru.js', import.meta.url).pathname;
    const argv = [bin, '--ready-file', this.readyFile, ...args];
    const unmount = `for t in $(awk '$3=="tracefs"||$3=="debugfs"{print $2}' /proc/self/mounts | sort -r); do umount "$t" || exit 99; done`;
    this.child = opts.withoutTracefs
      ? spawn(
          'unshare',
          ['-m', '--propagation', 'private', 'sh', '-c', `${unmount}; exec "$0" "$@"`, process.execPath, ...argv],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        )
      : spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** The BPF programs and links pwru held once ready. */
  held: { progs: number[]; links: number[] } = { progs: [], links: [] };

  /** Waits until pwru has attached everything (its ready file exists) or exited. */
  async ready(timeoutMs = 60_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (existsSync(this.readyFile)) {
        this.held = bpfIdsOf(this.child.pid!);
        return;
      }
      if (this.child.exitCode !== null) throw new Error(`pwru exited ${this.child.exitCode}: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`pwru not ready after ${timeoutMs} ms: ${this.stderr}`);
  }

  /** Waits until stdout matches `re` (or the timeout passes). */
  async waitFor(re: RegExp, timeoutMs = 10_000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (re.test(this.stdout)) return true;
      if (this.child.exitCode !== null) return re.test(this.stdout);
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  /** SIGTERM, as upstream's CI stops pwru; resolves to the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }
}

/** The BPF program and link ids a process holds, from its fds' fdinfo. */
export function bpfIdsOf(pid: number): { progs: number[]; links: number[] } {
  const progs: number[] = [];
  const links: number[] = [];
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fdinfo`);
  } catch {
    return { progs, links };
  }
  for (const fd of fds) {
    let info = '';
    try {
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue;
    }
    const prog = /^prog_id:\s*(\d+)/m.exec(info);
    const link = /^link_id:\s*(\d+)/m.exec(info);
    if (link) links.push(Number(link[1]));
    else if (prog) progs.push(Number(prog[1]));
  }
  return { progs, links };
}

/** Which of these program and link ids still exist (bpftool's view of the kernel). */
export function stillLoaded(ids: { progs: number[]; links: number[] }): number[] {
  const live = (kind: 'prog' | 'link'): Set<number> => {
    try {
      return new Set((JSON.parse(sh('bpftool', ['-j', kind, 'show'])) as Array<{ id: number }>).map((x) => x.id));
    } catch {
      return new Set();
    }
  };
  const progs = live('prog');
  const links = live('link');
  return [...ids.progs.filter((id) => progs.has(id)), ...ids.links.filter((id) => links.has(id))];
}
