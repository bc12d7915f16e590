/** Small text helpers that reproduce Go's `fmt` padding rules used by upstream's columns. */

/** `%-Ns`: pads on the right to `width` (never truncates). */
export function padRight(s: string, width: number): string {
  return s.length >= width ? s : s + ' '.repeat(width - s.length);
}

/** `%Ns`: pads on the left to `width` (never truncates). */
export function padLeft(s: string, width: number): string {
  return s.length >= width ? s : ' '.repeat(width - s.length) + s;
}

/** Upstream's `centerAlignString`: the extra space of an odd remainder goes to the right. */
export function center(s: string, width: number): string {
  if (s.length >= width) return s;
  const left = (width - s.length) >> 1;
  return ' '.repeat(left) + s + ' '.repeat(width - s.length - left);
}

/** Keeps the last `width` characters, replacing the first kept one with `~` (PROCESS, IFACE). */
export function tailTruncate(s: string, width: number): string {
  return s.length <= width ? s : '~' + s.slice(s.length - width + 1);
}

const HEX_CACHE_SIZE = 4096;
const hexCacheHi = new Float64Array(HEX_CACHE_SIZE).fill(-1);
const hexCacheLo = new Float64Array(HEX_CACHE_SIZE).fill(-1);
const hexCacheStr: string[] = new Array<string>(HEX_CACHE_SIZE).fill('');

/**
 * Go's `%#x` of a 64-bit value held as two 32-bit halves. A small direct-mapped cache makes the
 * common case (the same skb seen in a dozen functions) a lookup.
 */
export function hex64(hi: number, lo: number): string {
  const slot = ((lo >>> 6) ^ (hi & 0xfff)) & (HEX_CACHE_SIZE - 1);
  if (hexCacheLo[slot] === lo && hexCacheHi[slot] === hi) return hexCacheStr[slot]!;
  const s = hi === 0 ? '0x' + lo.toString(16) : '0x' + hi.toString(16) + lo.toString(16).padStart(8, '0');
  hexCacheHi[slot] = hi;
  hexCacheLo[slot] = lo;
  hexCacheStr[slot] = s;
  return s;
}

/** Go's `%#04x` as used for PROTO: `0x` then at least four hex digits. */
export function hexProto(v: number): string {
  return '0x' + v.toString(16).padStart(4, '0');
}

/** Go's `0x%08X` (uppercase) as used for the cb column. */
export function hex08Upper(v: number): string {
  return '0x' + v.toString(16).toUpperCase().padStart(8, '0');
}
