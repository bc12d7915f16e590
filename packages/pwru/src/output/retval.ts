/**
 * Return values of traced functions (`--output-return`): how each function's BTF return type
 * prints, and the printing itself. The kernel side hands over the raw 64-bit `rax`; only the
 * bytes of the declared type are meaningful (an `int` function leaves the upper half of `rax`
 * undefined), so every value is first cut to its type's size.
 */
import { type Btf, resolveType } from 'btf-parser';
import type { Addr64, PwruEvent } from '../event.js';
import { errnoName, MAX_ERRNO } from './errno.js';

/** How a function's return value prints, from its BTF return type. */
export type ReturnFormat =
  /** `void`: the function returns nothing, and gets no return probe. */
  | { readonly kind: 'void' }
  /**
   * An integer of `size` bytes. Signed ones of 4 or 8 bytes (`int`, `long`) holding -1..-4095
   * are also named as Linux errnos: `-22 (EINVAL)`.
   */
  | { readonly kind: 'int'; readonly size: number; readonly signed: boolean }
  /** `bool` (`_Bool`): `true` / `false`. */
  | { readonly kind: 'bool'; readonly size: number }
  /** An enum (also through a typedef such as `rx_handler_result_t`): the enumerator's name. */
  | {
      readonly kind: 'enum';
      readonly size: number;
      readonly signed: boolean;
      readonly type: string;
      readonly names: ReadonlyMap<number, string>;
    }
  /** A pointer: `0xffff...`, `NULL`, or `ERR_PTR(-ENOMEM)` for the kernel's error pointers. */
  | { readonly kind: 'ptr' }
  /** Anything else returned in `rax` (a small struct or union by value): hex. */
  | { readonly kind: 'raw' };

/** A printed return value. */
export interface ReturnValue {
  /** As the text output shows it after `=`: `0`, `-1 (EPERM)`, `XDP_PASS`, `NULL`, `0xffff...`. */
  readonly text: string;
  /**
   * The value as the type sees it, for JSON: a number for integers and enums (a decimal string
   * beyond 2^53), a boolean for `bool`, a `0x...` string for pointers and raw values.
   */
  readonly value: number | string | boolean;
}

/**
 * The {@link ReturnFormat} of a BTF FUNC (or FUNC_PROTO) type: typedefs and qualifiers are
 * skipped, so `rx_handler_result_t` prints as `enum rx_handler_result` and `netdev_tx_t` as
 * `enum netdev_tx`.
 */
export function returnFormat(btf: Btf, funcId: number): ReturnFormat {
  let t = btf.type(funcId);
  if (t.kind === 'func') t = btf.type(t.type);
  if (t.kind !== 'func_proto') throw new TypeError(`BTF type ${funcId} is a ${t.kind}, not a function`);
  if (t.returnType === 0) return { kind: 'void' };
  const r = btf.type(resolveType(btf, t.returnType));
  switch (r.kind) {
    case 'void':
      return { kind: 'void' };
    case 'int':
      if ((r.encoding & 4) !== 0) return { kind: 'bool', size: r.size };
      return { kind: 'int', size: r.size, signed: r.signed };
    case 'enum':
    case 'enum64': {
      const names = new Map<number, string>();
      for (const v of r.values) if (!names.has(Number(v.value))) names.set(Number(v.value), v.name);
      return { kind: 'enum', size: r.size, signed: r.signed, type: `enum ${r.name}`, names };
    }
    case 'ptr':
      return { kind: 'ptr' };
    default:
      return { kind: 'raw' };
  }
}

const TWO32 = 4294967296;

/** `hi:lo` as an unsigned bigint. */
function big(v: Addr64): bigint {
  return (BigInt(v.hi >>> 0) << 32n) | BigInt(v.lo >>> 0);
}

/** `0x...` of a 64-bit value, as Go's `%#x`. */
function hex(v: Addr64): string {
  return v.hi === 0
    ? '0x' + (v.lo >>> 0).toString(16)
    : '0x' + (v.hi >>> 0).toString(16) + (v.lo >>> 0).toString(16).padStart(8, '0');
}

/** The value cut to `size` bytes and sign- or zero-extended, as a number or (beyond 2^53) a bigint. */
function integer(v: Addr64, size: number, signed: boolean): number | bigint {
  switch (size) {
    case 1:
      return signed ? (v.lo << 24) >> 24 : v.lo & 0xff;
    case 2:
      return signed ? (v.lo << 16) >> 16 : v.lo & 0xffff;
    case 4:
      return signed ? v.lo | 0 : v.lo >>> 0;
    default: {
      const hi = signed ? v.hi | 0 : v.hi >>> 0;
      const n = hi * TWO32 + (v.lo >>> 0);
      if (Number.isSafeInteger(n)) return n;
      return signed ? BigInt.asIntN(64, big(v)) : big(v);
    }
  }
}

/** Prints a raw `rax` as the function's return type says. */
export function formatReturn(f: ReturnFormat, raw: Addr64): ReturnValue {
  switch (f.kind) {
    case 'void':
      return { text: '', value: '' };
    case 'int': {
      const n = integer(raw, f.size, f.signed);
      const text = String(n);
      if (typeof n === 'bigint') return { text, value: text };
      if (f.signed && f.size >= 4 && n < 0 && n >= -MAX_ERRNO) {
        const name = errnoName(-n);
        if (name) return { text: `${text} (${name})`, value: n };
      }
      return { text, value: n };
    }
    case 'bool': {
      const b = (integer(raw, f.size, false) as number) !== 0;
      return { text: String(b), value: b };
    }
    case 'enum': {
      const n = integer(raw, f.size, f.signed);
      const value = typeof n === 'bigint' ? String(n) : n;
      const name = typeof n === 'number' ? f.names.get(n) : undefined;
      return { text: name ?? String(n), value };
    }
    case 'ptr': {
      if (raw.hi === 0 && raw.lo === 0) return { text: 'NULL', value: '0x0' };
      // IS_ERR_VALUE: the top 4095 addresses are -errno.
      if (raw.hi === 0xffffffff && raw.lo >>> 0 >= TWO32 - MAX_ERRNO) {
        const errno = TWO32 - (raw.lo >>> 0);
        const name = errnoName(errno);
        return { text: `ERR_PTR(-${name ?? errno})`, value: hex(raw) };
      }
      return { text: hex(raw), value: hex(raw) };
    }
    case 'raw':
      return { text: hex(raw), value: hex(raw) };
  }
}

/**
 * Return formats by the name the FUNC column prints (`name`, or `name[mod]` for module
 * functions), with a cache of printed values: most functions return a handful of distinct values.
 */
export class ReturnFormats {
  readonly #formats: ReadonlyMap<string, ReturnFormat>;
  readonly #cache = new Map<ReturnFormat, Map<string, ReturnValue>>();

  constructor(formats: ReadonlyMap<string, ReturnFormat>) {
    this.#formats = formats;
  }

  /** The format of a function, by FUNC-column name. */
  get(name: string): ReturnFormat | undefined {
    return this.#formats.get(name);
  }

  /**
   * The printed return value of `name`; unknown functions (not in the run's BTF) print their
   * raw value as a signed 64-bit decimal, as `long` would.
   */
  format(name: string, raw: Addr64): ReturnValue {
    const f = this.#formats.get(name) ?? UNKNOWN;
    let byValue = this.#cache.get(f);
    if (!byValue) this.#cache.set(f, (byValue = new Map()));
    const key = `${raw.hi}:${raw.lo}`;
    let v = byValue.get(key);
    if (v === undefined) {
      v = formatReturn(f, raw);
      if (byValue.size >= 1024) byValue.clear();
      byValue.set(key, v);
    }
    return v;
  }
}

const UNKNOWN: ReturnFormat = { kind: 'int', size: 8, signed: true };
const NO_FORMATS = new ReturnFormats(new Map());
const ZERO: Addr64 = { hi: 0, lo: 0 };

/** The printed return value of a return event whose function the FUNC column names `name`. */
export function returnValueOf(name: string, ev: PwruEvent, formats: ReturnFormats | undefined): ReturnValue {
  return (formats ?? NO_FORMATS).format(name, ev.retval ?? ZERO);
}

/** The FUNC column of a return event: `ip_rcv_core = 0xffff888...`, `nf_hook_slow = -1 (EPERM)`. */
export function returnColumn(name: string, ev: PwruEvent, formats: ReturnFormats | undefined): string {
  return name + ' = ' + returnValueOf(name, ev, formats).text;
}
