import type { Btf } from './btf.js';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * A hash index from type name to type ids over one blob's own types. Hashes the raw name bytes
 * (FNV-1a) without allocating strings; lookups compare bytes. Chains keep ids in ascending order.
 */
export class NameIndex {
  private constructor(
    private readonly heads: Int32Array,
    private readonly next: Int32Array,
    private readonly hashes: Uint32Array,
  ) {}

  /** Builds the index for `btf`'s own types (not its base's). */
  static build(btf: Btf): NameIndex {
    const n = btf.typeCount;
    let size = 16;
    while (size < n * 2) size *= 2;
    const heads = new Int32Array(size).fill(-1);
    const next = new Int32Array(n);
    const hashes = new Uint32Array(n);
    const bytes = btf.bytes;
    const view = btf.view;
    const le = btf.le;
    const offsets = btf.offsets;
    const mask = size - 1;
    for (let rel = n - 1; rel >= 0; rel--) {
      const nameOff = view.getUint32(offsets[rel]!, le);
      if (nameOff === 0) {
        next[rel] = -1;
        continue;
      }
      let pos = btf.strPos(nameOff);
      let h = FNV_OFFSET;
      if (pos < 0) {
        // Name stored in the base's string section (split BTF).
        const s = btf.str(nameOff);
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
    return new NameIndex(heads, next, hashes);
  }

  /** Ids of `btf`'s own types named `name`, ascending. */
  lookup(btf: Btf, name: string): number[] {
    let h = FNV_OFFSET;
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i);
      if (c > 0xff || c === 0) return [];
      h = Math.imul(h ^ c, FNV_PRIME);
    }
    h >>>= 0;
    const out: number[] = [];
    for (let rel = this.heads[h & (this.heads.length - 1)]!; rel >= 0; rel = this.next[rel]!) {
      if (this.hashes[rel] !== h) continue;
      const id = btf.firstTypeId + rel;
      if (nameEquals(btf, btf.nameOffOf(id), name)) out.push(id);
    }
    return out;
  }
}

function nameEquals(btf: Btf, nameOff: number, name: string): boolean {
  const pos = btf.strPos(nameOff);
  if (pos < 0) return btf.str(nameOff) === name;
  const bytes = btf.bytes;
  for (let i = 0; i < name.length; i++) if (bytes[pos + i] !== name.charCodeAt(i)) return false;
  return bytes[pos + name.length] === 0;
}
