import { readFileSync } from 'node:fs';
import type { Addr64 } from './event.js';
import type { Symbolizer } from './output/context.js';

/** /proc/kallsyms could not be read or holds only zero addresses (no CAP_SYSLOG). */
export class KallsymsError extends Error {
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

function parseHex64(s: string): Addr64 {
  const lo = parseInt(s.slice(-8), 16);
  const hi = s.length > 8 ? parseInt(s.slice(0, -8), 16) : 0;
  return { hi: hi >>> 0, lo: lo >>> 0 };
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

  private constructor(syms: Ksym[]) {
    syms.sort((a, b) => a.addr.hi - b.addr.hi || a.addr.lo - b.addr.lo);
    this.his = Uint32Array.from(syms, (s) => s.addr.hi);
    this.los = Uint32Array.from(syms, (s) => s.addr.lo);
    this.names = syms.map((s) => s.name);
    this.types = syms.map((s) => s.type);
  }

  /** Parses kallsyms text (`addr type name\t[mod]` per line). */
  static parse(text: string): Ksyms {
    const syms: Ksym[] = [];
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const line = text.slice(start, end);
      start = end + 1;
      const a = line.indexOf(' ');
      const b = line.indexOf(' ', a + 1);
      if (a < 0 || b < 0) continue;
      const name = line.slice(b + 1).replace(/\t/g, '').replace(/ /g, '');
      syms.push({ addr: parseHex64(line.slice(0, a)), type: line.slice(a + 1, b), name });
    }
    return new Ksyms(syms);
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
      out.push(j < this.names.length ? { name: this.names[i]!, addr, end: { hi: this.his[j]!, lo: this.los[j]! } } : { name: this.names[i]!, addr });
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
