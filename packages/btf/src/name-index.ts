import type { Btf } from './btf.js';

/**
 * One step of the name hash: MurmurHash3's 32-bit block step, mixing the next four name bytes (a
 * little-endian word) into the state. Every bit of the word and of the old state reaches the top
 * bits of the new state, which index the table; identifiers that differ in one character or only
 * in their tail (`bpf_trace_*`, `__x64_sys_*`) spread over the table like random strings.
 */
function step(h: number, w: number): number {
  let k = Math.imul(w, 0xcc9e2d51);
  k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/**
 * @internal The name hash of `name`'s latin1 bytes, as {@link hashStringAt} computes it for the
 * same bytes in a string section; undefined when no BTF string can equal `name` (empty, a NUL
 * character, or a character beyond latin1).
 */
export function hashName(name: string): number | undefined {
  const len = name.length;
  if (len === 0) return undefined;
  let h = 0;
  let w = 0;
  let shift = 0;
  for (let i = 0; i < len; i++) {
    const c = name.charCodeAt(i);
    if (c === 0 || c > 0xff) return undefined;
    w |= c << shift;
    shift += 8;
    if (shift === 32) {
      h = step(h, w);
      w = 0;
      shift = 0;
    }
  }
  // The word holding the terminating NUL, masked to the bytes before it (0 when there are none).
  return step(h, w);
}

/**
 * @internal The name hash of the NUL-terminated string at `bytes[pos]`, read four bytes at a
 * time: each word without a zero byte is one step; the word with the first zero byte, masked to
 * the bytes before it, is the last step. The string must end with a NUL inside `bytes` (every
 * string section does: the parser checks it), so the loop stops.
 */
export function hashStringAt(bytes: Uint8Array, view: DataView, pos: number): number {
  const last = bytes.length - 4; // the last position a whole word can be read from
  let h = 0;
  for (;;) {
    const w = pos <= last ? view.getInt32(pos, true) : tailWord(bytes, pos);
    // Non-zero when a byte of w is zero; its lowest set bit is bit 7 of the first zero byte.
    const z = (w - 0x01010101) & ~w & 0x80808080;
    if (z !== 0) return step(h, w & (((z & -z) >>> 7) - 1));
    h = step(h, w);
    pos += 4;
  }
}

/** The up to four bytes from `pos` to the end of `bytes` as a little-endian word, zero-padded. */
function tailWord(bytes: Uint8Array, pos: number): number {
  let w = 0;
  for (let k = 0; k < 4 && pos + k < bytes.length; k++) w |= bytes[pos + k]! << (8 * k);
  return w;
}

/**
 * @internal The key a name is filed under: the name hash of its first eight bytes (of the whole
 * name when it is shorter, so short names are keyed exactly). Computing it for a name in a string
 * section reads one or two words and never looks for the end of a longer name; types whose names
 * share their first eight bytes share a key.
 */
export function prefixKeyAt(bytes: Uint8Array, view: DataView, pos: number): number {
  const last = bytes.length - 4;
  const w0 = pos <= last ? view.getInt32(pos, true) : tailWord(bytes, pos);
  const z0 = (w0 - 0x01010101) & ~w0 & 0x80808080;
  if (z0 !== 0) return step(0, w0 & (((z0 & -z0) >>> 7) - 1));
  const w1 = pos + 4 <= last ? view.getInt32(pos + 4, true) : tailWord(bytes, pos + 4);
  const z1 = (w1 - 0x01010101) & ~w1 & 0x80808080;
  return step(step(0, w0), z1 !== 0 ? w1 & (((z1 & -z1) >>> 7) - 1) : w1);
}

/** @internal {@link prefixKeyAt} of `name`'s latin1 bytes (the caller has checked them). */
export function prefixKey(name: string): number {
  let w0 = 0;
  let w1 = 0;
  const len = Math.min(name.length, 8);
  for (let i = 0; i < len; i++) {
    if (i < 4) w0 |= name.charCodeAt(i) << (8 * i);
    else w1 |= name.charCodeAt(i) << (8 * (i - 4));
  }
  return name.length < 4 ? step(0, w0) : step(step(0, w0), w1);
}

/** A chain longer than this is refined into a full-name table by the first query into it. */
const REFINE_AT = 16;

/**
 * log2 of the slot count for a blob of up to `n` types: the smallest power of two, at least 16,
 * not below n / 8. Usually under two thirds of the types are named, so a chain holds a handful of
 * entries (a one-byte tag rules out most of them without reading their names), while the table,
 * written at random while it is filled, stays small enough for the first-level cache (64 KB for
 * vmlinux).
 */
function tableBits(n: number): number {
  let bits = 4;
  while (1 << (bits + 3) < n && bits < 30) bits++;
  return bits;
}

/**
 * @internal The chained table of name keys that {@link Btf.parse}'s pass over the type records
 * fills, one entry per named type: the entry of the type at 1-based position `link` (its id minus
 * the blob's first id, plus one) goes to the head of the chain of slot `key >>> shift`. Links are
 * 1-based so that 0 ends a chain and the freshly allocated, zeroed arrays need no filling.
 */
export class NameTable {
  /** First link of each slot's chain. */
  readonly heads: Int32Array;
  /** Next link of each chain entry, indexed by link. */
  next: Int32Array;
  /** Low byte of each filed type's key, indexed by link: rules out most other names. */
  tags: Uint8Array;
  /** 32 minus log2 of the slot count: a key's slot is its top bits. */
  readonly shift: number;

  /** A table for up to `capacity` types, with slots for about `expected` of them. */
  constructor(capacity: number, expected: number) {
    const bits = tableBits(expected);
    this.heads = new Int32Array(1 << bits);
    this.next = new Int32Array(capacity + 1);
    this.tags = new Uint8Array(capacity + 1);
    this.shift = 32 - bits;
  }

  /** Files the type at `link` under `key` (the parse pass inlines this for its own names). */
  add(link: number, key: number): void {
    this.tags[link] = key;
    const slot = key >>> this.shift;
    this.next[link] = this.heads[slot]!;
    this.heads[slot] = link;
  }

  /** Makes room for `capacity` types, keeping the entries filed so far. */
  grow(capacity: number): void {
    const next = new Int32Array(capacity + 1);
    next.set(this.next);
    const tags = new Uint8Array(capacity + 1);
    tags.set(this.tags);
    this.next = next;
    this.tags = tags;
  }

  /** Drops the room reserved beyond the `count` types the blob turned out to have, when it is much. */
  trim(count: number): void {
    if (count + 1 + (count >>> 3) < this.next.length) {
      this.next = this.next.slice(0, count + 1);
      this.tags = this.tags.slice(0, count + 1);
    }
  }
}

/**
 * @internal The key of the name at string offset `off` when it lies in a base's string section
 * (split BTF), or undefined when it is empty or beyond every string section.
 */
export function baseNameKey(btf: Btf, off: number): number | undefined {
  const owner = stringOwner(btf, off);
  if (owner === undefined) return undefined;
  const pos = owner.header.strStart + off - owner.firstStrOff;
  return owner.bytes[pos] === 0 ? undefined : prefixKeyAt(owner.bytes, owner.view, pos);
}

/**
 * Finds a blob's own types by name without decoding names up front.
 *
 * The parse pass files every named type, in a chained hash table ({@link NameTable}), under the
 * key of its first eight name bytes ({@link prefixKeyAt}: one or two word reads in place, no
 * string allocation, no search for the end of the name), while it walks the type records anyway.
 * A query computes its own key, walks one chain and compares candidates byte by byte with the
 * string section. Most keys belong to one name; a family sharing eight bytes (`trace_event_raw_*`,
 * `__probestub_*`, `btf_trace_*`: up to a few thousand types in vmlinux) shares a chain, and the
 * first query into a chain longer than {@link REFINE_AT} refines it into a table by the hash of the
 * whole name ({@link hashStringAt}) and answers from that. So every query, after the first
 * into its family, costs O(length of the name), whether or not the name exists; the string
 * section is never searched, and the bytes of names past their eighth are read only for families
 * somebody asked about.
 */
export class NameIndex {
  /** Refined slots, by slot number: the slot's types filed by the hash of their whole names. */
  private refined: Map<number, Refined> | undefined;

  constructor(
    private readonly btf: Btf,
    private readonly table: NameTable,
  ) {}

  /** Ids of the blob's own types named `name`, ascending. */
  lookup(name: string): number[] {
    const out: number[] = [];
    const full = hashName(name); // also rules out names no BTF string can equal
    if (full === undefined) return out;
    const { heads, next, tags, shift } = this.table;
    const first = this.btf.firstTypeId;
    const key = prefixKey(name);
    const slot = key >>> shift;
    const refined = this.refined?.get(slot) ?? (this.isLong(slot) ? this.refine(slot) : undefined);
    if (refined !== undefined) {
      // Types sharing a hash sit in consecutive probes, in ascending order.
      const { hashes, links, mask } = refined;
      for (let i = full & mask; links[i] !== 0; i = (i + 1) & mask) {
        if (hashes[i] === full && this.isNamed(links[i]!, name)) out.push(first + links[i]! - 1);
      }
      return out;
    }
    const tag = key & 0xff;
    for (let link = heads[slot]!; link !== 0; link = next[link]!) {
      if (tags[link] === tag && this.isNamed(link, name)) out.push(first + link - 1);
    }
    // Chains run in descending type order (each entry went to the head of its chain).
    return out.length > 1 ? out.reverse() : out;
  }

  /** True when a slot's chain is longer than {@link REFINE_AT} (counting no further). */
  private isLong(slot: number): boolean {
    const { heads, next } = this.table;
    let length = 0;
    for (let link = heads[slot]!; link !== 0 && length <= REFINE_AT; link = next[link]!) length++;
    return length > REFINE_AT;
  }

  /**
   * Ids of the blob's own types whose names begin with `prefix`, ascending. The prefix must be at
   * least eight bytes: all its names then share one key, so one chain holds them all.
   */
  withPrefix(prefix: string): number[] {
    if (prefix.length < 8 || hashName(prefix) === undefined) {
      throw new RangeError(
        `a name prefix to look up needs at least 8 latin1 characters and no NUL, not ${JSON.stringify(prefix)}`,
      );
    }
    const out: number[] = [];
    const { heads, next, tags, shift } = this.table;
    const key = prefixKey(prefix);
    const tag = key & 0xff;
    for (let link = heads[key >>> shift]!; link !== 0; link = next[link]!) {
      if (tags[link] === tag && this.startsWith(link, prefix)) out.push(this.btf.firstTypeId + link - 1);
    }
    return out.reverse(); // chains run in descending type order
  }

  /** True when the name of the type at chain link `link` begins with `prefix`. */
  private startsWith(link: number, prefix: string): boolean {
    const btf = this.btf;
    const off = btf.word(btf.offsets[link - 1]!);
    const owner = off >= btf.firstStrOff ? btf : stringOwner(btf, off)!; // filed, so in range
    const pos = owner.header.strStart + off - owner.firstStrOff;
    const bytes = owner.bytes;
    for (let i = 0; i < prefix.length; i++) if (bytes[pos + i] !== prefix.charCodeAt(i)) return false;
    return true;
  }

  /** True when the type at chain link `link` is named exactly `name`. */
  private isNamed(link: number, name: string): boolean {
    const btf = this.btf;
    const off = btf.word(btf.offsets[link - 1]!);
    const local = off - btf.firstStrOff;
    if (local >= 0) return sameString(btf.bytes, btf.header.strStart + local, name);
    const owner = stringOwner(btf, off)!; // a base's string (split BTF); in range: it was filed
    return sameString(owner.bytes, owner.header.strStart + off - owner.firstStrOff, name);
  }

  /** Files one slot's chain by the hash of each whole name, for this query and those to come. */
  private refine(slot: number): Refined {
    const { heads, next } = this.table;
    const btf = this.btf;
    const { strStart } = btf.header;
    const chain: number[] = [];
    for (let link = heads[slot]!; link !== 0; link = next[link]!) chain.push(link);
    let size = 16;
    while (size < 2 * chain.length) size *= 2; // at most half full: short probe runs
    const mask = size - 1;
    const hashes = new Int32Array(size);
    const links = new Int32Array(size);
    // The chain runs in descending order: insert from its end, so probes meet types ascending.
    for (let c = chain.length - 1; c >= 0; c--) {
      const link = chain[c]!;
      const off = btf.word(btf.offsets[link - 1]!);
      const local = off - btf.firstStrOff;
      let h: number;
      if (local >= 0) h = hashStringAt(btf.bytes, btf.view, strStart + local);
      else {
        const owner = stringOwner(btf, off)!; // a base's string (split BTF); in range: it was keyed
        h = hashStringAt(owner.bytes, owner.view, owner.header.strStart + off - owner.firstStrOff);
      }
      let i = h & mask;
      while (links[i] !== 0) i = (i + 1) & mask;
      hashes[i] = h;
      links[i] = link;
    }
    const refined = { hashes, links, mask };
    (this.refined ??= new Map()).set(slot, refined);
    return refined;
  }
}

/** A refined slot: an open-addressing table of links (0: empty) by whole-name hash. */
interface Refined {
  readonly hashes: Int32Array;
  readonly links: Int32Array;
  readonly mask: number;
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
 * The Btf whose string section holds string offset `off` (split BTF: a base for offsets below
 * `firstStrOff`), or undefined when the offset is beyond every string section.
 */
function stringOwner(btf: Btf, off: number): Btf | undefined {
  let o: Btf | undefined = btf;
  while (o !== undefined && off < o.firstStrOff) o = o.base;
  if (o === undefined || off - o.firstStrOff >= o.header.strLen) return undefined;
  return o;
}
