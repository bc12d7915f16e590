/**
 * Test fixture: two network namespaces joined by a veth pair, with 10.x addresses that exist
 * only inside them. Traffic never leaves the namespaces the test created.
 */
import { execFileSync } from 'node:child_process';

/** A pair of namespaces `a` (10.X.Y.1) and `b` (10.X.Y.2) joined by veth. */
export interface NetnsPair {
  readonly a: string;
  readonly b: string;
  readonly addrA: string;
  readonly addrB: string;
  /** addrA as the u32 the kernel stores (network byte order read as little-endian). */
  readonly addrARaw: number;
  /** addrB likewise. */
  readonly addrBRaw: number;
  /** Runs a command inside namespace `ns`. */
  exec(ns: string, cmd: string[]): string;
  /** Deletes both namespaces (and with them the veth pair). */
  destroy(): void;
}

const run = (cmd: string[]) =>
  execFileSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Creates the pair; call destroy() in afterAll. */
export function createNetnsPair(): NetnsPair {
  const tag = `${process.pid % 10000}${Math.floor(Math.random() * 1000)}`;
  const a = `bpfts-${tag}-a`;
  const b = `bpfts-${tag}-b`;
  const x = 64 + Math.floor(Math.random() * 128);
  const y = Math.floor(Math.random() * 250);
  const addrA = `10.${x}.${y}.1`;
  const addrB = `10.${x}.${y}.2`;
  const cleanup = () => {
    for (const ns of [a, b]) {
      try {
        run(['ip', 'netns', 'del', ns]);
      } catch {
        // already gone
      }
    }
  };
  try {
    run(['ip', 'netns', 'add', a]);
    run(['ip', 'netns', 'add', b]);
    run(['ip', '-n', a, 'link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1', 'netns', b]);
    run(['ip', '-n', a, 'addr', 'add', `${addrA}/30`, 'dev', 'veth0']);
    run(['ip', '-n', b, 'addr', 'add', `${addrB}/30`, 'dev', 'veth1']);
    for (const ns of [a, b]) {
      run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      run(['ip', '-n', ns, 'link', 'set', ns === a ? 'veth0' : 'veth1', 'up']);
    }
  } catch (e) {
    cleanup();
    throw e;
  }
  const raw = (addr: string) => {
    const bytes = addr.split('.').map(Number);
    return (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
  };
  return {
    a,
    b,
    addrA,
    addrB,
    addrARaw: raw(addrA),
    addrBRaw: raw(addrB),
    exec: (ns, cmd) => run(['ip', 'netns', 'exec', ns, ...cmd]),
    destroy: cleanup,
  };
}

/** Whether `ip netns` works here (root, iproute2). */
export function canCreateNetns(): boolean {
  try {
    run(['ip', 'netns', 'list']);
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
}

/** A veth whose host end (no address) faces a namespace `ns` holding 10.X.Y.1/24. */
export interface HostVeth {
  readonly hostIf: string;
  readonly ns: string;
  /** Sends one UDP datagram from the namespace to a fresh 10.X.Y.N (its ARP request crosses the veth). */
  send(): void;
  destroy(): void;
}

/** Creates the namespace and veth; call destroy() in afterAll. */
export function createHostVeth(): HostVeth {
  const tag = `${process.pid % 10000}${Math.floor(Math.random() * 1000)}`;
  const ns = `bpfts-${tag}-h`;
  const hostIf = `bpfts${tag}`.slice(0, 15);
  const x = 64 + Math.floor(Math.random() * 128);
  const y = Math.floor(Math.random() * 250);
  const cleanup = () => {
    try {
      run(['ip', 'netns', 'del', ns]);
    } catch {
      // gone
    }
    try {
      run(['ip', 'link', 'del', hostIf]);
    } catch {
      // gone with the namespace
    }
  };
  try {
    run(['ip', 'netns', 'add', ns]);
    run(['ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'veth0', 'netns', ns]);
    run(['ip', 'link', 'set', hostIf, 'up']);
    run(['ip', '-n', ns, 'addr', 'add', `10.${x}.${y}.1/24`, 'dev', 'veth0']);
    run(['ip', '-n', ns, 'link', 'set', 'veth0', 'up']);
  } catch (e) {
    cleanup();
    throw e;
  }
  let next = 2;
  return {
    hostIf,
    ns,
    send: () => {
      const host = next++;
      run(['ip', 'netns', 'exec', ns, 'bash', '-c', `echo hi > /dev/udp/10.${x}.${y}.${host}/9 || true`]);
    },
    destroy: cleanup,
  };
}
