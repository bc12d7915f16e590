/** BTF kind numbers and names, as in the kernel's include/uapi/linux/btf.h. */

/** Numeric BTF kinds (`BTF_KIND_*`). */
export const BtfKind = {
  UNKN: 0,
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;

/** The highest kind number this parser understands. */
export const MAX_KIND = 19;

/** Lower-case kind names used in the public API (`'struct'`, `'func_proto'`, ...). `'void'` is id 0. */
export type BtfKindName =
  | 'void'
  | 'int'
  | 'ptr'
  | 'array'
  | 'struct'
  | 'union'
  | 'enum'
  | 'fwd'
  | 'typedef'
  | 'volatile'
  | 'const'
  | 'restrict'
  | 'func'
  | 'func_proto'
  | 'var'
  | 'datasec'
  | 'float'
  | 'decl_tag'
  | 'type_tag'
  | 'enum64';

/** Kind names indexed by kind number (index 0 is `'void'`, the kind of type id 0). */
export const KIND_NAMES: readonly BtfKindName[] = [
  'void',
  'int',
  'ptr',
  'array',
  'struct',
  'union',
  'enum',
  'fwd',
  'typedef',
  'volatile',
  'const',
  'restrict',
  'func',
  'func_proto',
  'var',
  'datasec',
  'float',
  'decl_tag',
  'type_tag',
  'enum64',
];

const KIND_NUMBERS: ReadonlyMap<string, number> = new Map(KIND_NAMES.map((n, i) => [n, i]));

/** Kind number for a kind name; throws on an unknown name. */
export function kindNumber(name: BtfKindName): number {
  const k = KIND_NUMBERS.get(name);
  if (k === undefined) throw new TypeError(`unknown BTF kind name '${name}'`);
  return k;
}

/** Integer encoding bits of a BTF INT (`BTF_INT_*`). */
export const BtfIntEncoding = { SIGNED: 1, CHAR: 2, BOOL: 4 } as const;
