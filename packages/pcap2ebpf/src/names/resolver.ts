import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  parseEthers,
  parseHosts,
  parseNetworks,
  parseProtocols,
  parseServices,
  type HostEntry,
  type ServiceEntry,
} from './etcfiles.js';
import { parseIpv4, parseIpv6 } from './addresses.js';

/** The text of the name databases; a missing file is an empty database. */
export interface NameFiles {
  services?: string;
  protocols?: string;
  networks?: string;
  hosts?: string;
  ethers?: string;
}

/** An address a host name resolves to. */
export type HostAddress = { family: 4; addr: number } | { family: 6; addr: Uint8Array };

/** A service name's port and which transport protocols define it with that port. */
export interface ServicePort {
  port: number;
  /** 'tcp', 'udp', or 'any' (same port for tcp and udp: libpcap then matches tcp, udp and sctp). */
  proto: 'tcp' | 'udp' | 'any';
}

/**
 * Offline name resolution with libpcap's semantics over the C library's databases: services by name or
 * alias per protocol, protocols (both case-sensitive), networks, hosts (all addresses of a name in file
 * order), ethers (these three case-insensitive, as in glibc).
 * Never uses DNS: a name the files do not know is unknown.
 */
export class NameResolver {
  private readonly services: ServiceEntry[];
  private readonly protocols: Map<string, number>;
  private readonly networks: Map<string, number>;
  private readonly hosts: HostEntry[];
  private readonly ethers: Map<string, Uint8Array>;

  constructor(files: NameFiles = {}) {
    this.services = parseServices(files.services ?? '');
    this.protocols = parseProtocols(files.protocols ?? '');
    this.networks = parseNetworks(files.networks ?? '');
    this.hosts = parseHosts(files.hosts ?? '');
    this.ethers = parseEthers(files.ethers ?? '');
  }

  /** Reads services, protocols, networks, hosts and ethers from a directory (default `/etc`). */
  static fromDirectory(dir = '/etc'): NameResolver {
    const read = (name: string): string | undefined => {
      const p = join(dir, name);
      try {
        return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
      } catch {
        return undefined;
      }
    };
    return new NameResolver({
      services: read('services'),
      protocols: read('protocols'),
      networks: read('networks'),
      hosts: read('hosts'),
      ethers: read('ethers'),
    });
  }

  private servicePort(name: string, protocol: string): number {
    // getaddrinfo takes any decimal string as a port and keeps its low 16 bits (sin_port)
    if (/^[0-9]+$/.test(name)) return Number(BigInt(name) % 65536n);
    for (const e of this.services) {
      if (e.protocol === protocol && (e.name === name || e.aliases.includes(name))) return e.port;
    }
    return -1;
  }

  /** `pcap_nametoport`: undefined when neither tcp nor udp knows the name. */
  port(name: string): ServicePort | undefined {
    const tcp = this.servicePort(name, 'tcp');
    const udp = this.servicePort(name, 'udp');
    if (tcp >= 0) return { port: tcp, proto: udp >= 0 && udp === tcp ? 'any' : 'tcp' };
    if (udp >= 0) return { port: udp, proto: 'udp' };
    return undefined;
  }

  /** `pcap_nametoportrange`: `N-M` numerically, else two service names split at the first `-`. */
  portRange(name: string): { port1: number; port2: number; proto: ServicePort['proto'] } | undefined {
    const m = /^\s*([-+]?\d+)-([-+]?\d+)/.exec(name);
    if (m) return { port1: Number(m[1]), port2: Number(m[2]), proto: 'any' };
    const dash = name.indexOf('-');
    if (dash < 0) return undefined;
    const a = this.port(name.slice(0, dash));
    if (!a) return undefined;
    const b = this.port(name.slice(dash + 1));
    if (!b) return undefined;
    return { port1: a.port, port2: b.port, proto: a.proto === b.proto ? b.proto : 'any' };
  }

  /** `getprotobyname`. */
  protocol(name: string): number | undefined {
    return this.protocols.get(name);
  }

  /** `getnetbyname` (case-insensitive, as glibc): the network number (right-aligned). */
  network(name: string): number | undefined {
    return this.networks.get(name.toLowerCase());
  }

  /** `getaddrinfo(name)` over /etc/hosts, names compared case-insensitively as glibc does (numeric addresses resolve to themselves). */
  host(name: string): HostAddress[] {
    const v4 = parseIpv4(name);
    if (v4 !== undefined) return [{ family: 4, addr: v4 }];
    const v6 = parseIpv6(name);
    if (v6) return [{ family: 6, addr: v6 }];
    const out: HostAddress[] = [];
    const lower = name.toLowerCase();
    for (const e of this.hosts) {
      if (!e.names.some((n) => n.toLowerCase() === lower)) continue;
      const a4 = parseIpv4(e.address);
      if (a4 !== undefined) out.push({ family: 4, addr: a4 });
      else {
        const a6 = parseIpv6(e.address);
        if (a6) out.push({ family: 6, addr: a6 });
      }
    }
    return out;
  }

  /** `ether_hostton` over /etc/ethers (case-insensitive, as glibc). */
  ether(name: string): Uint8Array | undefined {
    return this.ethers.get(name.toLowerCase());
  }
}
