import type { Btf } from './btf.js';

/** FNV-1a's offset basis as an int32, so hashes stay small integers (stored unsigned). */
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/** Power-of-two slot count of at least `n` (one per type; under half are used, as many types are anonymous). */
function tableSize(n: number): number {
  let size = 16;
  while (size < n) size *= 2;
  return size;
}

/**
 * Finds a blob's own types by name without decoding names up front.
 *
 * Built on the first by-name query in one pass over the type records: each named type's raw name
 * bytes are hashed in place (FNV-1a, no string allocation) into a chained hash table. A query
 * hashes its own latin1 characters the same way, walks one chain, and compares candidates byte by
 * byte against the string section. So every query after the build costs O(length of the name),
 * whether or not the name exists, and the string section is never searched.
 */
export class NameIndex {
  private readonly heads: Int32Array;
  private readonly next: Int32Array;
  private readonly hashes: Uint32Array;

  constructor(private readonly btf: Btf) {
    const n = btf.typeCount;
    const size = tableSize(n);
    const mask = size - 1;
    const heads = new Int32Array(size).fill(-1);
    const next = new Int32Array(n).fill(-1);
    const hashes = new Uint32Array(n);
    const offsets = btf.offsets;
    const u32 = btf.u32;
    const own = btf.bytes;
    const { strStart, strLen } = btf.header;
    const firstStrOff = btf.firstStrOff;
    for (let rel = n - 1; rel >= 0; rel--) {
      const nameOff = u32 !== undefined ? u32[offsets[rel]! >>> 2]! : btf.word(offsets[rel]!);
      let bytes = own;
      let pos: number;
      if (nameOff >= firstStrOff) {
        const local = nameOff - firstStrOff;
        if (local >= strLen) continue; // corrupt offset: the type has no name to find it by
        pos = strStart + local;
      } else {
        const at = locateString(btf, nameOff);
        if (at === undefined) continue;
        bytes = at.bytes;
        pos = at.pos;
      }
      // Every string section ends with a NUL (checked by the parser), so this loop stops.
      let c = bytes[pos]!;
      if (c === 0) continue; // anonymous
      let h = FNV_OFFSET;
      do {
        h = Math.imul(h ^ c, FNV_PRIME);
        c = bytes[++pos]!;
      } while (c !== 0);
      hashes[rel] = h;
      const slot = h & mask;
      next[rel] = heads[slot]!;
      heads[slot] = rel;
    }
    this.heads = heads;
    this.next = next;
    this.hashes = hashes;
  }

  /** Ids of the blob's own types named `name`, ascending. */
  lookup(name: string): number[] {
    const out: number[] = [];
    if (name === '') return out;
    let h = FNV_OFFSET;
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i);
      if (c === 0 || c > 0xff) return out; // BTF names are NUL-terminated latin1 bytes
      h = Math.imul(h ^ c, FNV_PRIME);
    }
    h >>>= 0; // as the Uint32Array of stored hashes holds it
    const { heads, next, hashes, btf } = this;
    // Chains were built from the last type down, so they run in ascending id order.
    for (let rel = heads[h & (heads.length - 1)]!; rel >= 0; rel = next[rel]!) {
      if (hashes[rel] !== h) continue;
      const at = locateString(btf, btf.word(btf.offsets[rel]!))!; // in range: it was hashed
      if (sameString(at.bytes, at.pos, name)) out.push(btf.firstTypeId + rel);
    }
    return out;
  }
}

/** True when the NUL-terminated string at `bytes[pos]` is exactly `name` (latin1). */
function sameString(bytes: Uint8Array, pos: number, name: string): boolean {
  const len = name.length;
  for (let i = 0; i < len; i++) {
    if (bytes[pos + i] !== name.charCodeAt(i)) return false;
  }
  return bytes[pos + len] === 0;
}

/**
 * The bytes holding a string offset and the string's absolute position in them (split BTF: the
 * base's blob for offsets below `firstStrOff`), or undefined when the offset is out of range.
 */
function locateString(btf: Btf, off: number): { bytes: Uint8Array; pos: number } | undefined {
  let o: Btf | undefined = btf;
  while (o !== undefined && off < o.firstStrOff) o = o.base;
  if (o === undefined) return undefined;
  const local = off - o.firstStrOff;
  if (local >= o.header.strLen) return undefined;
  return { bytes: o.bytes, pos: o.header.strStart + local };
}
