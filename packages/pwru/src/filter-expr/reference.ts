import type { CmpOp } from './ast.js';
import type { Cond, Hop, Place } from './ir.js';

/** Kernel memory as the reference evaluator sees it: `size` bytes at `address`, zeros where unreadable. */
export type ReadMemory = (address: bigint, size: number) => Uint8Array;

const U64 = (1n << 64n) - 1n;

function le(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

function compare(a: bigint, op: CmpOp, b: bigint): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
}

function follow(read: ReadMemory, root: bigint, hops: readonly Hop[]): bigint | undefined {
  let base = root;
  for (const h of hops) {
    let p = le(read(base + BigInt(h.offset), 8));
    if (h.mask !== undefined) p &= h.mask;
    if (p === 0n) return undefined;
    base = p;
  }
  return base;
}

function load(read: ReadMemory, base: bigint, place: Place): bigint {
  let v = le(read(base + BigInt(place.offset), place.size));
  if (place.bitSize !== undefined) v = (v >> BigInt(place.bitOffset ?? 0)) & ((1n << BigInt(place.bitSize)) - 1n);
  return v;
}

/**
 * Evaluates a compiled condition the way C would, directly over memory: the specification the
 * generated eBPF is tested against. `root` is the address of the skb (or xdp_buff).
 */
export function evaluateCond(c: Cond, read: ReadMemory, root: bigint): boolean {
  switch (c.kind) {
    case 'and':
      return evaluateCond(c.left, read, root) && evaluateCond(c.right, read, root);
    case 'or':
      return evaluateCond(c.left, read, root) || evaluateCond(c.right, read, root);
    case 'not':
      return !evaluateCond(c.operand, read, root);
    case 'bytes': {
      const base = follow(read, root, c.place.hops);
      if (base === undefined) return false;
      const got = read(base + BigInt(c.place.offset), c.bytes.length);
      const same = got.every((b, i) => b === c.bytes[i]);
      return c.op === '==' ? same : !same;
    }
    case 'cmp': {
      const base = follow(read, root, c.place.hops);
      if (base === undefined) return false;
      let v = load(read, base, c.place);
      const width = BigInt(c.place.bitSize ?? c.place.size * 8);
      if (c.signed && v >= 1n << (width - 1n)) v -= 1n << width;
      if (c.mask !== undefined) v = v & U64 & c.mask;
      return compare(v, c.op, c.signed ? c.value : c.value & U64);
    }
  }
}
