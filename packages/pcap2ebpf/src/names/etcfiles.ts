/**
 * Parsers for the classic name databases libpcap consults through the C library: /etc/services,
 * /etc/protocols, /etc/networks, /etc/hosts and /etc/ethers. Pure functions over file text.
 */

/** One /etc/services entry. */
export interface ServiceEntry {
  name: string;
  aliases: string[];
  port: number;
  protocol: string;
}

/** One /etc/hosts entry (one address, one or more names). */
export interface HostEntry {
  address: string;
  names: string[];
}

function lines(text: string): string[][] {
  const out: string[][] = [];
  for (const raw of text.split('\n')) {
    const hash = raw.indexOf('#');
    const line = hash >= 0 ? raw.slice(0, hash) : raw;
    const fields = line
      .trim()
      .split(/\s+/)
      .filter((f) => f !== '');
    if (fields.length > 0) out.push(fields);
  }
  return out;
}

/** Parses /etc/services: `name port/protocol [aliases...]`. */
export function parseServices(text: string): ServiceEntry[] {
  const out: ServiceEntry[] = [];
  for (const [name, portProto, ...aliases] of lines(text)) {
    const m = /^(\d+)\/(\w+)$/.exec(portProto ?? '');
    if (!name || !m) continue;
    out.push({ name, aliases, port: Number(m[1]), protocol: m[2]!.toLowerCase() });
  }
  return out;
}

/** Parses /etc/protocols: `name number [aliases...]` into name/alias -> number (first entry wins). */
export function parseProtocols(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, num, ...aliases] of lines(text)) {
    if (!name || !num || !/^\d+$/.test(num)) continue;
    for (const n of [name, ...aliases]) if (!out.has(n)) out.set(n, Number(num));
  }
  return out;
}

/**
 * `inet_network()`: dotted parts (decimal, 0x hex or 0 octal), right-aligned: "127" = 0x7f,
 * "127.0.0.0" = 0x7f000000. Undefined if malformed.
 */
export function inetNetwork(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length > 4 || parts.some((p) => p === '')) return undefined;
  let v = 0;
  for (const p of parts) {
    let n: number;
    if (/^0[xX][0-9a-fA-F]+$/.test(p)) n = parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) n = parseInt(p, 8);
    else if (/^[1-9][0-9]*$/.test(p)) n = parseInt(p, 10);
    else return undefined;
    if (n > 255) return undefined;
    v = v * 256 + n;
  }
  return v >>> 0;
}

/**
 * Parses /etc/networks: `name number [aliases...]` into lower-cased name/alias -> network number
 * (first wins; glibc compares network names case-insensitively).
 */
export function parseNetworks(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, num, ...aliases] of lines(text)) {
    if (!name || !num) continue;
    const v = inetNetwork(num);
    if (v === undefined) continue;
    for (const n of [name, ...aliases].map((x) => x.toLowerCase())) if (!out.has(n)) out.set(n, v);
  }
  return out;
}

/** Parses /etc/hosts: `address name [aliases...]`. */
export function parseHosts(text: string): HostEntry[] {
  return lines(text)
    .filter((f) => f.length >= 2)
    .map(([address, ...names]) => ({ address: address!, names }));
}

/** Parses /etc/ethers: `xx:xx:xx:xx:xx:xx name` into lower-cased name -> 6 bytes (glibc ignores case). */
export function parseEthers(text: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const [mac, name] of lines(text)) {
    if (!mac || !name) continue;
    const parts = mac.split(':');
    if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) continue;
    if (!out.has(name.toLowerCase())) out.set(name.toLowerCase(), Uint8Array.from(parts.map((p) => parseInt(p, 16))));
  }
  return out;
}
