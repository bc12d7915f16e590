import type { Btf } from '../btf.js';

/** bpftool's upper-case kind names, indexed by kind number. */
export const BPFTOOL_KIND_NAMES: readonly string[] = [
  'UNKNOWN',
  'INT',
  'PTR',
  'ARRAY',
  'STRUCT',
  'UNION',
  'ENUM',
  'FWD',
  'TYPEDEF',
  'VOLATILE',
  'CONST',
  'RESTRICT',
  'FUNC',
  'FUNC_PROTO',
  'VAR',
  'DATASEC',
  'FLOAT',
  'DECL_TAG',
  'TYPE_TAG',
  'ENUM64',
];

/** bpftool's spelling of a name: `(anon)` for offset 0, `(invalid)` for a bad offset. */
export function dumpName(btf: Btf, off: number): string {
  if (off === 0) return '(anon)';
  try {
    return btf.str(off);
  } catch {
    return '(invalid)';
  }
}

/** bpftool's spelling of an INT encoding. */
export function intEncoding(enc: number): string {
  switch (enc) {
    case 0:
      return '(none)';
    case 1:
      return 'SIGNED';
    case 2:
      return 'CHAR';
    case 4:
      return 'BOOL';
    default:
      return 'UNKN';
  }
}

/** bpftool's spelling of FUNC/VAR linkage. */
export function linkageName(l: number): string {
  return l === 0 ? 'static' : l === 1 ? 'global' : l === 2 ? 'extern' : '(unknown)';
}
