import type { Btf } from './btf.js';
import { BtfNotFoundError } from './errors.js';
import { resolveType } from './resolve.js';
import type { Enum64Type, EnumType } from './types.js';

/** An enum given by name (`'skb_drop_reason'`), type id, or decoded type. */
export type EnumRef = string | number | EnumType | Enum64Type;

/** Finds an ENUM or ENUM64 by name, id (typedefs resolved) or decoded type. */
export function enumType(btf: Btf, ref: EnumRef): EnumType | Enum64Type {
  if (typeof ref === 'object') return ref;
  if (typeof ref === 'string') {
    const t = btf.findType(ref, 'enum') ?? btf.findType(ref, 'enum64');
    if (!t) throw new BtfNotFoundError(`no enum named '${ref}' in BTF`);
    return t;
  }
  const t = btf.type(resolveType(btf, ref));
  if (t.kind !== 'enum' && t.kind !== 'enum64')
    throw new BtfNotFoundError(`BTF type ${ref} is a ${t.kind}, not an enum`);
  return t;
}

/**
 * Value of an enumerator: `enumValue(btf, 'skb_drop_reason', 'SKB_DROP_REASON_NOT_SPECIFIED')`.
 * A number for ENUM, a bigint for ENUM64. Throws `BtfNotFoundError` naming the enum when absent.
 */
export function enumValue(btf: Btf, ref: EnumRef, name: string): number | bigint {
  const t = enumType(btf, ref);
  for (const v of t.values) if (v.name === name) return v.value;
  throw new BtfNotFoundError(`enum ${t.name || `(anonymous, id ${t.id})`} has no enumerator '${name}'`);
}

/** Name of the first enumerator with this value, or undefined (works across number/bigint). */
export function enumName(btf: Btf, ref: EnumRef, value: number | bigint): string | undefined {
  const t = enumType(btf, ref);
  if (t.kind === 'enum') {
    const n = Number(value);
    for (const v of t.values) if (v.value === n) return v.name;
    // Accept the other signedness's spelling of the same 32 bits.
    const alt = t.signed ? n | 0 : n >>> 0;
    for (const v of t.values) if (v.value === alt) return v.name;
    return undefined;
  }
  const b = BigInt(value);
  for (const v of t.values) if (v.value === b || BigInt.asUintN(64, v.value) === BigInt.asUintN(64, b)) return v.name;
  return undefined;
}

/** All enumerators as a value → name map (first name wins for duplicate values). */
export function enumMap(btf: Btf, ref: EnumRef): Map<number | bigint, string> {
  const t = enumType(btf, ref);
  const m = new Map<number | bigint, string>();
  for (const v of t.values) if (!m.has(v.value)) m.set(v.value, v.name);
  return m;
}
