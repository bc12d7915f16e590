import { readFileSync } from 'node:fs';
import type { Addr64 } from './event.js';
import type { Symbolizer } from './output/context.js';
import { PwruError } from './errors.js';

/** /proc/kallsyms could not be read or holds only zero addresses (no CAP_SYSLOG). */
export class KallsymsError extends PwruError {
  override name = 'KallsymsError';
}

/** One kallsyms line. */
export interface Ksym {
  readonly addr: Addr64;
  /** The type letter (`T`, `t`, `W`, ...). */
  readonly type: string;
  /** `name` for vmlinux symbols, `name[mod]` for module symbols (upstream's spelling). */
  readonly name: string;
}

/**
 * The kernel's symbol table: exact lookups for the FUNC column, nearest-lower lookups for stacks
 * and callers, and name → addresses for kprobe-multi. Sorted arrays of 32-bit halves keep lookups
 * free of BigInt.
 */
export class Ksyms implements Symbolizer {
  private readonly his: Uint32Array;
  private readonly los: Uint32Array;
  private readonly names: string[];
  private readonly types: string[];
  private exactIndex?: Map<string, number>;
  private nameIndex?: Map<string, number[]>;

  private constructor(his: Uint32Array, los: Uint32Array, names: string[], types: string[]) {
    this.his = his;
    this.los = los;
    this.names = names;
    this.types = types;
  }

  /**
   * Parses kallsyms text (`addr type name\t[mod]` per line) in one pass over the string, without
   * a per-line object or regular expression: /proc/kallsyms has 100k+ lines and pwru parses it
   * at start-up (under qemu TCG this took seconds). Symbols end up sorted by address, stably.
   */
  static parse(text: string): Ksyms {
    const his: number[] = [];
    const los: number[] = [];
    const names: string[] = [];
    const types: string[] = [];
    let sorted = true;
    let start = 0;
    const n = text.length;
    while (start < n) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = n;
      const a = text.indexOf(' ', start);
      const b = a < 0 || a >= end ? -1 : text.indexOf(' ', a + 1);
      if (b < 0 || b >= end) {
        start = end + 1;
        continue;
      }
      const lo = parseInt(text.slice(Math.max(start, a - 8), a), 16) >>> 0;
      const hi = a - start > 8 ? parseInt(text.slice(start, a - 8), 16) >>> 0 : 0;
      let name = text.slice(b + 1, end);
      // Module symbols: `name\t[mod]` becomes upstream's `name[mod]` (no tabs or spaces).
      if (name.includes('\t') || name.includes(' ')) name = name.replace(/[\t ]/g, '');
      const k = names.length;
      if (k > 0 && (hi < his[k - 1]! || (hi === his[k - 1]! && lo < los[k - 1]!))) sorted = false;
      his.push(hi);
      los.push(lo);
      names.push(name);
      types.push(text.slice(a + 1, b));
      start = end + 1;
    }
    if (sorted) return new Ksyms(Uint32Array.from(his), Uint32Array.from(los), names, types);
    // Module symbols need not be in address order: sort an index, ties in file order.
    const order = Array.from(his, (_, i) => i).sort((x, y) => his[x]! - his[y]! || los[x]! - los[y]! || x - y);
    return new Ksyms(
      Uint32Array.from(order, (i) => his[i]!),
      Uint32Array.from(order, (i) => los[i]!),
      order.map((i) => names[i]!),
      order.map((i) => types[i]!),
    );
  }

  /** Reads and parses `/proc/kallsyms`; fails when addresses are hidden. */
  static load(path = '/proc/kallsyms'): Ksyms {
    let text: string;
    try {
      text = readFileSync(path, 'latin1');
    } catch (e) {
      throw new KallsymsError(`cannot read ${path}: ${(e as Error).message}`);
    }
    const k = Ksyms.parse(text);
    if (k.size > 0 && k.his[k.size - 1] === 0 && k.los[k.size - 1] === 0) {
      throw new KallsymsError(`${path} shows only zero addresses: run pwru as root (CAP_SYSLOG)`);
    }
    return k;
  }

  /** Number of symbols. */
  get size(): number {
    return this.names.length;
  }

  private indexOf(addr: Addr64): number {
    // Greatest i with (hi,lo)[i] <= addr, or -1.
    let lo = 0;
    let hi = this.names.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const h = this.his[mid]!;
      if (h < addr.hi || (h === addr.hi && this.los[mid]! <= addr.lo)) {
        best = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return best;
  }

  /** The symbol starting exactly at `addr`. */
  exact(addr: Addr64): string | undefined {
    if (!this.exactIndex) {
      this.exactIndex = new Map();
      for (let i = 0; i < this.names.length; i++) {
        const key = `${this.his[i]}:${this.los[i]}`;
        // Prefer text symbols when data symbols share an address.
        if (!this.exactIndex.has(key) || /[tTwW]/.test(this.types[i]!)) this.exactIndex.set(key, i);
      }
    }
    const i = this.exactIndex.get(`${addr.hi}:${addr.lo}`);
    return i === undefined ? undefined : this.names[i];
  }

  /** The nearest symbol at or below `addr` (name only, no offset). */
  nearest(addr: Addr64): string | undefined {
    const i = this.indexOf(addr);
    return i < 0 ? undefined : this.names[i];
  }

  /** Every address of a symbol name (names can repeat: static functions in several files). */
  addressesOf(name: string): Addr64[] {
    if (!this.nameIndex) {
      this.nameIndex = new Map();
      for (let i = 0; i < this.names.length; i++) {
        const list = this.nameIndex.get(this.names[i]!);
        if (list) list.push(i);
        else this.nameIndex.set(this.names[i]!, [i]);
      }
    }
    return (this.nameIndex.get(name) ?? []).map((i) => ({ hi: this.his[i]!, lo: this.los[i]! }));
  }

  /**
   * Every address of each of `names`, in one scan and without indexing all symbols: kprobe-multi
   * needs a few thousand names out of 100k+ symbols, and a full name index costs seconds under
   * emulation. Names absent from kallsyms map to empty lists.
   */
  addressesOfMany(names: Iterable<string>): Map<string, Addr64[]> {
    const out = new Map<string, Addr64[]>();
    for (const n of names) out.set(n, []);
    if (this.nameIndex) {
      for (const n of out.keys()) out.set(n, this.addressesOf(n));
      return out;
    }
    for (let i = 0; i < this.names.length; i++) {
      const list = out.get(this.names[i]!);
      if (list) list.push({ hi: this.his[i]!, lo: this.los[i]! });
    }
    return out;
  }

  /** Whether `name` is a text (function) symbol. */
  isText(name: string): boolean {
    this.addressesOf(name);
    return (this.nameIndex!.get(name) ?? []).some((i) => /[tTwW]/.test(this.types[i]!));
  }

  /**
   * The symbols whose name passes `keep`, in address order, each with the address of the next
   * symbol (any name) as its end: `[bpf]` program images for `--filter-track-bpf-helpers`.
   */
  symbolsWhere(keep: (name: string) => boolean): Array<{ name: string; addr: Addr64; end?: Addr64 }> {
    const out: Array<{ name: string; addr: Addr64; end?: Addr64 }> = [];
    for (let i = 0; i < this.names.length; i++) {
      if (!keep(this.names[i]!)) continue;
      let j = i + 1;
      while (j < this.names.length && this.his[j] === this.his[i] && this.los[j] === this.los[i]) j++;
      const addr = { hi: this.his[i]!, lo: this.los[i]! };
      out.push(
        j < this.names.length
          ? { name: this.names[i]!, addr, end: { hi: this.his[j]!, lo: this.los[j]! } }
          : { name: this.names[i]!, addr },
      );
    }
    return out;
  }

  /** Names of all text symbols (the fallback function list when tracefs is unreadable). */
  textSymbols(): Set<string> {
    const out = new Set<string>();
    for (let i = 0; i < this.names.length; i++) if (/[tTwW]/.test(this.types[i]!)) out.add(this.names[i]!);
    return out;
  }
}
