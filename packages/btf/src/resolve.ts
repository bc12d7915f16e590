import type { Btf } from './btf.js';
import { BtfError } from './errors.js';
import { BtfKind, KIND_NAMES } from './kinds.js';

/** Longest typedef/qualifier/array chain followed before declaring a cycle (libbpf uses 32). */
export const MAX_RESOLVE_DEPTH = 32;

function tooDeep(start: number): BtfError {
  return new BtfError(`type chain from id ${start} is deeper than ${MAX_RESOLVE_DEPTH} (a cycle?)`);
}

/** Skips `const`, `volatile`, `restrict` and type tags (not typedefs); returns the type id reached. */
export function skipQualifiers(btf: Btf, id: number): number {
  const start = id;
  for (let depth = 0; depth <= MAX_RESOLVE_DEPTH; depth++) {
    const k = btf.kindOf(id);
    if (k !== BtfKind.CONST && k !== BtfKind.VOLATILE && k !== BtfKind.RESTRICT && k !== BtfKind.TYPE_TAG) return id;
    id = btf.sizeOrTypeOf(id);
  }
  throw tooDeep(start);
}

/** Skips typedefs and qualifiers to the underlying type (e.g. `u32` → `unsigned int`). */
export function resolveType(btf: Btf, id: number): number {
  const start = id;
  for (let depth = 0; depth <= MAX_RESOLVE_DEPTH; depth++) {
    const k = btf.kindOf(id);
    if (
      k !== BtfKind.TYPEDEF &&
      k !== BtfKind.CONST &&
      k !== BtfKind.VOLATILE &&
      k !== BtfKind.RESTRICT &&
      k !== BtfKind.TYPE_TAG
    ) {
      return id;
    }
    id = btf.sizeOrTypeOf(id);
  }
  throw tooDeep(start);
}

const pointerSizes = new WeakMap<Btf, number>();

/**
 * Pointer size of the BTF's target: 8 unless the BTF describes `long` as 4 bytes (as libbpf
 * guesses it from the `long` integer types).
 */
export function pointerSize(btf: Btf): number {
  let sz = pointerSizes.get(btf);
  if (sz === undefined) {
    sz = 8;
    for (const name of ['long int', 'long unsigned int']) {
      const t = btf.findType(name, 'int');
      if (t && (t.size === 4 || t.size === 8)) {
        sz = t.size;
        break;
      }
    }
    pointerSizes.set(btf, sz);
  }
  return sz;
}

/** Size in bytes of a type, like C `sizeof`; throws `BtfError` for types without a size. */
export function sizeOf(btf: Btf, id: number): number {
  const start = id;
  let mult = 1;
  for (let depth = 0; depth <= MAX_RESOLVE_DEPTH; depth++) {
    id = resolveType(btf, id);
    switch (btf.kindOf(id)) {
      case BtfKind.INT:
      case BtfKind.ENUM:
      case BtfKind.ENUM64:
      case BtfKind.STRUCT:
      case BtfKind.UNION:
      case BtfKind.FLOAT:
      case BtfKind.DATASEC:
        return mult * btf.sizeOrTypeOf(id);
      case BtfKind.PTR:
        return mult * pointerSize(btf);
      case BtfKind.ARRAY: {
        const a = btf.typeOfKind(id, 'array');
        mult *= a.nelems;
        id = a.type;
        break;
      }
      case BtfKind.VAR:
        id = btf.sizeOrTypeOf(id);
        break;
      default:
        throw new BtfError(`type id ${start} (${KIND_NAMES[btf.kindOf(id)]}) has no size`);
    }
  }
  throw tooDeep(start);
}

/** Alignment in bytes of a type, like C `_Alignof` (1 for packed structs), as libbpf computes it. */
export function alignOf(btf: Btf, id: number, depth = 0): number {
  if (depth > MAX_RESOLVE_DEPTH) throw tooDeep(id);
  const r = resolveType(btf, id);
  switch (btf.kindOf(r)) {
    case BtfKind.INT:
    case BtfKind.ENUM:
    case BtfKind.ENUM64:
    case BtfKind.FLOAT:
      return Math.max(1, Math.min(pointerSize(btf), btf.sizeOrTypeOf(r)));
    case BtfKind.PTR:
      return pointerSize(btf);
    case BtfKind.ARRAY:
      return alignOf(btf, btf.typeOfKind(r, 'array').type, depth + 1);
    case BtfKind.STRUCT:
    case BtfKind.UNION: {
      const t = btf.type(r) as {
        size: number;
        members: readonly { type: number; bitOffset: number; bitfieldSize: number }[];
      };
      let max = 1;
      for (const m of t.members) {
        const a = alignOf(btf, m.type, depth + 1);
        if (m.bitfieldSize === 0 && m.bitOffset % (8 * a) !== 0) return 1; // packed
        max = Math.max(max, a);
      }
      if (t.size % max !== 0) return 1; // packed
      return max;
    }
    default:
      throw new BtfError(`type id ${id} (${KIND_NAMES[btf.kindOf(r)]}) has no alignment`);
  }
}

/** True when the (resolved) type is a signed integer or a signed enum. */
export function isSigned(btf: Btf, id: number): boolean {
  const t = btf.type(resolveType(btf, id));
  if (t.kind === 'int') return t.signed;
  if (t.kind === 'enum' || t.kind === 'enum64') return t.signed;
  return false;
}
