/**
 * IP address text exactly as Go's `net.IP.String()` writes it (RFC 5952: lowercase, the longest
 * run of two or more zero groups compressed, the first on a tie; IPv4-mapped IPv6 as dotted quad).
 */

const V4_CACHE_SIZE = 1024;
const v4Key = new Float64Array(V4_CACHE_SIZE).fill(-1);
const v4Str: string[] = new Array<string>(V4_CACHE_SIZE).fill('');

/** Dotted quad of the 4 bytes at `off` (cached: the same addresses repeat in a trace). */
export function ipv4String(view: DataView, off: number): string {
  const key = view.getUint32(off, false);
  const slot = (key ^ (key >>> 10) ^ (key >>> 20)) & (V4_CACHE_SIZE - 1);
  if (v4Key[slot] === key) return v4Str[slot]!;
  const s = `${key >>> 24}.${(key >>> 16) & 0xff}.${(key >>> 8) & 0xff}.${key & 0xff}`;
  v4Key[slot] = key;
  v4Str[slot] = s;
  return s;
}

/** Go's text of the 16-byte IPv6 address at `off`. */
export function ipv6String(view: DataView, off: number): string {
  let mapped = view.getUint16(off + 10, false) === 0xffff;
  for (let i = 0; mapped && i < 10; i++) if (view.getUint8(off + i) !== 0) mapped = false;
  if (mapped) return ipv4String(view, off + 12);
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(view.getUint16(off + 2 * i, false));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.map((g) => g.toString(16)).join(':');
  const head = groups
    .slice(0, bestStart)
    .map((g) => g.toString(16))
    .join(':');
  const tail = groups
    .slice(bestStart + bestLen)
    .map((g) => g.toString(16))
    .join(':');
  return `${head}::${tail}`;
}

/** Parses an IPv4 or IPv6 literal into 16 bytes (IPv4 in the first 4); for tests and fixtures. */
export function ipBytes(text: string): Uint8Array {
  const out = new Uint8Array(16);
  if (text.includes(':')) {
    const [l, r] = text.includes('::') ? text.split('::') : [text, undefined];
    const left = l ? l.split(':') : [];
    const right = r !== undefined && r !== '' ? r.split(':') : [];
    const groups = [...left, ...new Array(8 - left.length - right.length).fill('0'), ...right];
    groups.forEach((g, i) => {
      const v = parseInt(g, 16);
      out[2 * i] = v >> 8;
      out[2 * i + 1] = v & 0xff;
    });
  } else {
    text.split('.').forEach((p, i) => (out[i] = Number(p)));
  }
  return out;
}
