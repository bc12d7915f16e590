/** Numeric address parsing: dotted IPv4 (`inet_aton` strict form) and IPv6 text (`inet_pton`). */

/** A dotted-quad IPv4 address as an unsigned number, or undefined. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p) || Number(p) > 255) return undefined;
    v = v * 256 + Number(p);
  }
  return v >>> 0;
}

/** IPv6 text (with `::` and an optional embedded IPv4 tail) as 16 bytes, or undefined. */
export function parseIpv6(text: string): Uint8Array | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  let head = text;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail.push((v4 >>> 16) & 0xffff, v4 & 0xffff);
    head = text.slice(0, lastColon + 1);
    if (!head.endsWith('::') && head.endsWith(':')) head = head.slice(0, -1);
  }
  const dbl = head.indexOf('::');
  if (dbl !== head.lastIndexOf('::')) return undefined;
  const group = (g: string): number | undefined => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : undefined);
  let groups: number[];
  if (dbl >= 0) {
    const left = head.slice(0, dbl);
    const right = head.slice(dbl + 2);
    const l = left === '' ? [] : left.split(':').map(group);
    const r = right === '' ? [] : right.split(':').map(group);
    if (l.some((x) => x === undefined) || r.some((x) => x === undefined)) return undefined;
    const fill = 8 - l.length - r.length - tail.length;
    if (fill < 1) return undefined;
    groups = [...(l as number[]), ...new Array<number>(fill).fill(0), ...(r as number[]), ...tail];
  } else {
    const g = head === '' ? [] : head.split(':').map(group);
    if (g.some((x) => x === undefined)) return undefined;
    groups = [...(g as number[]), ...tail];
    if (groups.length !== 8) return undefined;
  }
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}
