import type { Btf } from './btf.js';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Distinct by-name queries answered by searching the string section before a full hash index pays off. */
const SEARCHES_BEFORE_HASHING = 32;

function tableSize(n: number): number {
  let size = 16;
  while (size < n * 2) size *= 2;
  return size;
}

/** Fibonacci hashing of a name offset into a table of 2^(32 - shift) slots. */
const slotOf = (nameOff: number, shift: number): number => Math.imul(nameOff, 0x9e3779b1) >>> shift;

/**
 * Finds a blob's own types by name without decoding names up front.
 *
 * Built on the first by-name query in one pass over the type records: a hash table from name
 * offset to type ids. A query finds the name's offsets in the string section with a native byte
 * search (BTF string tables are deduplicated, so usually one hit) and walks those chains. After
 * {@link SEARCHES_BEFORE_HASHING} distinct queries it also hashes every type's raw name bytes
 * (FNV-1a, no string allocation), so heavy users pay one pass instead of a search per query.
 */
export class NameIndex {
  private readonly heads: Int32Array;
  private readonly next: Int32Array;
  private readonly shift: number;
  private searches = 0;
  private byHash: { heads: Int32Array; next: Int32Array; hashes: Uint32Array } | undefined;

  constructor(private readonly btf: Btf) {
    const n = btf.typeCount;
    const size = tableSize(n);
    const shift = 32 - Math.log2(size);
    const heads = new Int32Array(size).fill(-1);
    const next = new Int32Array(n).fill(-1);
    const offsets = btf.offsets;
    const u32 = btf.u32;
    for (let rel = n - 1; rel >= 0; rel--) {
      const nameOff = u32 !== undefined ? u32[offsets[rel]! >>> 2]! : btf.word(offsets[rel]!);
      if (nameOff === 0) continue;
      const slot = slotOf(nameOff, shift);
      next[rel] = heads[slot]!;
      heads[slot] = rel;
    }
    this.heads = heads;
    this.next = next;
    this.shift = shift;
  }

  /** Ids of the blob's own types named `name`, ascending. */
  lookup(name: string): number[] {
    if (name === '' || !isLatin1(name)) return [];
    if (!this.byHash && ++this.searches > SEARCHES_BEFORE_HASHING) this.byHash = this.hashNames();
    return this.byHash ? this.lookupHashed(name) : this.lookupByOffsets(name);
  }

  private lookupByOffsets(name: string): number[] {
    const btf = this.btf;
    const out: number[] = [];
    for (const off of stringOffsets(btf, name)) {
      for (let rel = this.heads[slotOf(off, this.shift)]!; rel >= 0; rel = this.next[rel]!) {
        if (btf.word(btf.offsets[rel]!) === off) out.push(btf.firstTypeId + rel);
      }
    }
    return out.sort((a, b) => a - b);
  }

  private hashNames(): { heads: Int32Array; next: Int32Array; hashes: Uint32Array } {
    const btf = this.btf;
    const n = btf.typeCount;
    const size = tableSize(n);
    const mask = size - 1;
    const heads = new Int32Array(size).fill(-1);
    const next = new Int32Array(n).fill(-1);
    const hashes = new Uint32Array(n);
    const bytes = btf.bytes;
    for (let rel = n - 1; rel >= 0; rel--) {
      const nameOff = btf.word(btf.offsets[rel]!);
      if (nameOff === 0) continue;
      let pos = btf.strPos(nameOff);
      let h = FNV_OFFSET;
      if (pos < 0) {
        const s = btf.str(nameOff); // a base string (split BTF)
        for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
      } else {
        for (let c = bytes[pos]!; c !== 0; c = bytes[++pos]!) h = Math.imul(h ^ c, FNV_PRIME);
      }
      h >>>= 0;
      hashes[rel] = h;
      const slot = h & mask;
      next[rel] = heads[slot]!;
      heads[slot] = rel;
    }
    return { heads, next, hashes };
  }

  private lookupHashed(name: string): number[] {
    const { heads, next, hashes } = this.byHash!;
    let h = FNV_OFFSET;
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), FNV_PRIME);
    h >>>= 0;
    const btf = this.btf;
    const out: number[] = [];
    for (let rel = heads[h & (heads.length - 1)]!; rel >= 0; rel = next[rel]!) {
      if (hashes[rel] !== h) continue;
      const id = btf.firstTypeId + rel;
      if (btf.str(btf.nameOffOf(id)) === name) out.push(id);
    }
    return out;
  }
}

function isLatin1(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c > 0xff) return false;
  }
  return true;
}

/**
 * Every string offset (in the blob's offset space, including its base's for split BTF) where
 * exactly `name` is stored.
 */
export function stringOffsets(btf: Btf, name: string): number[] {
  const out = btf.base ? stringOffsets(btf.base, name) : [];
  const { strStart, strLen } = btf.header;
  const end = strStart + strLen;
  const needle = Buffer.from(`\0${name}\0`, 'latin1');
  const hay = Buffer.from(btf.bytes.buffer, btf.bytes.byteOffset, btf.bytes.byteLength);
  // A string starts after a NUL; the section's first string starts at strStart itself.
  if (hay.compare(needle, 1, needle.length, strStart, Math.min(end, strStart + needle.length - 1)) === 0) {
    out.push(btf.firstStrOff);
  }
  for (let at = hay.indexOf(needle, strStart); at >= 0 && at + needle.length <= end; at = hay.indexOf(needle, at + 1)) {
    out.push(btf.firstStrOff + at + 1 - strStart);
  }
  return out;
}
