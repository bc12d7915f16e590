import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { PwruError } from './errors.js';

/** A `--filter-netns` / `--filter-ifname` value that cannot be resolved. */
export class NetnsError extends PwruError {
  override name = 'NetnsError';
}

/** The inode of the network namespace file at `path` (`/proc/<pid>/ns/net`, `/run/netns/<n>`). */
export function netnsInode(path: string): number {
  try {
    return statSync(path).ino;
  } catch (e) {
    throw new NetnsError(`Failed to retrieve netns ${path}: ${(e as Error).message}`);
  }
}

/** The inode of pwru's own network namespace. */
export function currentNetnsInode(): number {
  return netnsInode('/proc/self/ns/net');
}

/**
 * Parses upstream's `--filter-netns` forms: an absolute path, or `inode:<decimal>`. Returns the
 * namespace inode.
 */
export function parseNetnsSpec(spec: string): number {
  if (spec.startsWith('/')) return netnsInode(spec);
  if (spec.startsWith('inode:')) {
    const n = spec.slice(6);
    if (!/^[0-9]+$/.test(n))
      throw new NetnsError(`Failed to retrieve netns ${spec}: invalid inode ${JSON.stringify(n)}`);
    return Number(n);
  }
  throw new NetnsError(`Failed to retrieve netns ${spec}: invalid netns specifier: ${spec}`);
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}

/**
 * Interfaces of the network namespace a process lives in, read from that process's
 * `/proc/<pid>/net` view (igmp, if_inet6 and dev_mcast list ifindex and name): no setns needed.
 */
export function interfacesOf(procNetDir: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of readOr(`${procNetDir}/igmp`).split('\n')) {
    const m = /^(\d+)\s+(\S+?)\s*:/.exec(line);
    if (m) out.set(Number(m[1]), m[2]!);
  }
  for (const line of readOr(`${procNetDir}/if_inet6`).split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 6) out.set(parseInt(f[1]!, 16), f[5]!);
  }
  for (const line of readOr(`${procNetDir}/dev_mcast`).split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 2 && /^\d+$/.test(f[0]!)) out.set(Number(f[0]), f[1]!);
  }
  return out;
}

/** A process living in each network namespace: netns inode → pid. */
export function namespaceProcesses(proc = '/proc'): Map<number, string> {
  const out = new Map<number, string>();
  let entries: string[];
  try {
    entries = readdirSync(proc);
  } catch {
    return out;
  }
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const ino = statSync(`${proc}/${pid}/ns/net`).ino;
      if (!out.has(ino)) out.set(ino, pid);
    } catch {
      // The process exited or is not ours to look at.
    }
  }
  return out;
}

/**
 * Interface names in every network namespace that has a process, refreshed (at most once a
 * second) when an unknown (netns, ifindex) pair shows up: interfaces created after start-up get
 * their names too, unlike upstream's one-time snapshot.
 */
export class InterfaceCache {
  private byNetns = new Map<number, Map<number, string>>();
  private lastScan = -Infinity;

  constructor(
    private readonly proc = '/proc',
    private readonly now: () => number = () => performance.now(),
    private readonly minRescanMs = 1000,
    /** Where named namespaces are bind-mounted (`undefined` to skip them). */
    private readonly netnsDir: string | undefined = proc === '/proc' ? '/run/netns' : undefined,
  ) {
    this.scan();
  }

  /**
   * Rebuilds the cache from /proc, then asks iproute2 (`ip -n <name> -o link`, when installed)
   * about named namespaces in /run/netns that no process lives in.
   */
  scan(): void {
    const next = new Map<number, Map<number, string>>();
    for (const [ino, pid] of namespaceProcesses(this.proc)) next.set(ino, interfacesOf(`${this.proc}/${pid}/net`));
    if (this.netnsDir) {
      for (const [ino, name] of netnsNames(this.netnsDir)) {
        if (!next.has(ino)) {
          const links = linksViaIproute2(name);
          if (links) next.set(ino, links);
        }
      }
    }
    this.byNetns = next;
    this.lastScan = this.now();
  }

  /** The name of `ifindex` in netns `netns`, if known. */
  name(netns: number, ifindex: number): string | undefined {
    const hit = this.byNetns.get(netns)?.get(ifindex);
    if (hit !== undefined || ifindex === 0) return hit;
    if (this.now() - this.lastScan < this.minRescanMs) return undefined;
    this.scan();
    return this.byNetns.get(netns)?.get(ifindex);
  }

  /** The ifindex of interface `name` in netns `netns`, if a process lives there. */
  index(netns: number, name: string): number | undefined {
    this.scan();
    for (const [idx, n] of this.byNetns.get(netns) ?? []) if (n === name) return idx;
    return undefined;
  }
}

/** `ip -n <name> -o link` parsed into ifindex → name; undefined when iproute2 is unavailable. */
export function linksViaIproute2(netnsName: string): Map<number, string> | undefined {
  let out: string;
  try {
    out = execFileSync('ip', ['-n', netnsName, '-o', 'link', 'show'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 2000,
    });
  } catch {
    return undefined;
  }
  const links = new Map<number, string>();
  for (const line of out.split('\n')) {
    const m = /^(\d+): ([^:@\s]+)/.exec(line);
    if (m) links.set(Number(m[1]), m[2]!);
  }
  return links;
}

/**
 * Resolves `--filter-ifname` to an ifindex inside the netns given by `--filter-netns` (or the
 * current one), as upstream does in userspace.
 */
export function resolveIfname(ifname: string, netns: number, cache: InterfaceCache): number {
  const idx = cache.index(netns, ifname);
  if (idx === undefined) {
    throw new NetnsError(
      `Failed to retrieve ifindex of ${ifname} in netns ${netns}: no such interface (or no process in that netns to look through)`,
    );
  }
  return idx;
}

/** netns inode → name, from the bind mounts in /run/netns (`--output-netns-names`). */
export function netnsNames(dir = '/run/netns'): Map<number, string> {
  const out = new Map<number, string>();
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    try {
      const st = statSync(`${dir}/${name}`);
      if (!st.isDirectory()) out.set(st.ino, name);
    } catch {
      // Vanished meanwhile.
    }
  }
  return out;
}
