import {
  type Btf,
  BtfNotFoundError,
  type CompositeType,
  memberPath,
  type MemberPath,
  resolveType,
  typeName,
} from 'btf-parser';
import type { CmpOp, MemberRef, Node } from './ast.js';
import { FilterExprError } from './errors.js';
import { comparisons, type Cond, type Hop, type Place } from './ir.js';
import { closest } from './suggest.js';

/** At most this many comparisons in one expression (keeps the program far below verifier limits). */
export const MAX_COMPARISONS = 64;
/** At most this many pointer reads on the way to one field. */
export const MAX_HOPS = 8;
/** The longest string a char array is compared with. */
export const MAX_STRING = 64;

const U64 = (1n << 64n) - 1n;
const FLIP: Record<CmpOp, CmpOp> = { '==': '==', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/** A resolved value: a place with its C type, or a pointer still to be dereferenced (the root, a cast). */
interface Value {
  readonly place?: Place;
  /** The BTF type of the value (for the root and casts: the pointer type's target struct, see `struct`). */
  readonly type: number;
  /** A pointer to this struct, reachable by `hops` (the root: no hops). */
  readonly struct?: { readonly id: number; readonly hops: readonly Hop[]; readonly text: string };
  readonly mask?: bigint;
  readonly column: number;
}

const enumIndexes = new WeakMap<Btf, Map<string, bigint[]>>();

function enumeratorIndex(btf: Btf): Map<string, bigint[]> {
  let index = enumIndexes.get(btf);
  if (index) return index;
  index = new Map();
  for (const kind of ['enum', 'enum64'] as const) {
    for (const t of btf.types(kind)) {
      for (const v of t.values) {
        const list = index.get(v.name) ?? [];
        const value = BigInt(v.value);
        if (!list.includes(value)) list.push(value);
        index.set(v.name, list);
      }
    }
  }
  enumIndexes.set(btf, index);
  return index;
}

function typedefName(btf: Btf, id: number): string | undefined {
  for (let i = 0; i < 16 && id !== 0; i++) {
    const t = btf.type(id);
    if (t.kind === 'typedef') return t.name;
    if (t.kind === 'const' || t.kind === 'volatile' || t.kind === 'restrict' || t.kind === 'type_tag') id = t.type;
    else return undefined;
  }
  return undefined;
}

function swap(v: bigint, bytes: number): bigint {
  let out = 0n;
  for (let i = 0; i < bytes; i++) out = (out << 8n) | ((v >> BigInt(8 * i)) & 0xffn);
  return out;
}

function memberNames(btf: Btf, t: CompositeType, into: Set<string> = new Set(), depth = 0): Set<string> {
  for (const m of t.members) {
    if (m.name !== '') into.add(m.name);
    else if (depth < 8) {
      const inner = btf.type(resolveType(btf, m.type));
      if (inner.kind === 'struct' || inner.kind === 'union') memberNames(btf, inner, into, depth + 1);
    }
  }
  return into;
}

function pathText(members: readonly MemberRef[]): string {
  return members.map((m, i) => (i === 0 ? '' : m.arrow ? '->' : '.') + m.name).join('');
}

/** The root an expression starts from. */
export interface FilterRoot {
  /** `skb` or `xdp`. */
  readonly name: string;
  /** The struct it points to (`sk_buff`, `xdp_buff`). */
  readonly struct: string;
}

/**
 * Type-checks a parsed expression against a kernel's BTF and lowers it to a {@link Cond}: member
 * offsets from BTF (through anonymous structs and unions), pointer hops, casts, enumerator
 * names, byte order of `__be*` fields.
 */
export function resolveFilterExpr(btf: Btf, node: Node, root: FilterRoot): Cond {
  const rootStruct = btf.findType(root.struct, 'struct');
  if (!rootStruct) throw new FilterExprError(`kernel BTF has no struct ${root.struct}`);
  const r = new Resolver(btf, root, rootStruct.id);
  const cond = r.cond(node);
  const n = comparisons(cond);
  if (n > MAX_COMPARISONS) throw new FilterExprError(`${n} comparisons; at most ${MAX_COMPARISONS} fit in one filter`);
  return cond;
}

class Resolver {
  constructor(
    private readonly btf: Btf,
    private readonly root: FilterRoot,
    private readonly rootId: number,
  ) {}

  private fail(column: number, message: string): never {
    throw new FilterExprError(`column ${column}: ${message}`, column);
  }

  cond(n: Node): Cond {
    switch (n.kind) {
      case 'and':
      case 'or':
        return { kind: n.kind, left: this.cond(n.left), right: this.cond(n.right) };
      case 'not':
        return { kind: 'not', operand: this.cond(n.operand) };
      case 'cmp':
        return this.comparison(n.op, n.left, n.right, n.column);
      case 'num':
      case 'str':
        return this.fail(n.column, 'a constant is not a condition: compare a member with it');
      default: {
        const v = this.value(n);
        if (!v.place) this.fail(n.column, `${v.struct!.text} is a pointer to a struct: compare one of its members`);
        return this.scalarCmp(v, '!=', 0n, n.column);
      }
    }
  }

  private comparison(op: CmpOp, left: Node, right: Node, column: number): Cond {
    const isConst = (x: Node): boolean =>
      x.kind === 'num' || x.kind === 'str' || (x.kind === 'ident' && x.name !== this.root.name);
    if (isConst(left) && !isConst(right)) return this.comparison(FLIP[op], right, left, column);
    if (isConst(left)) this.fail(left.column, 'compare a member with a constant, not two constants');
    if (!isConst(right))
      this.fail(right.column, 'one side of a comparison must be a constant (a number, a string or an enumerator)');
    const v = this.value(left);
    if (!v.place) this.fail(left.column, `${v.struct!.text} is a pointer to a struct: compare one of its members`);
    const t = this.btf.type(resolveType(this.btf, v.type));
    if (t.kind === 'array') {
      const elem = this.btf.type(resolveType(this.btf, t.type));
      if (!(elem.kind === 'int' && elem.size === 1))
        this.fail(
          left.column,
          `${v.place.text} is ${typeName(this.btf, v.type)}, not an integer, enum, pointer or char array`,
        );
      if (right.kind !== 'str')
        this.fail(right.column, `${v.place.text} is a char array: compare it with a string, like "eth0"`);
      if (op !== '==' && op !== '!=') this.fail(column, `a char array compares with == or != only`);
      if (v.mask !== undefined) this.fail(column, 'a char array cannot be masked');
      const text = new TextEncoder().encode(right.value);
      if (text.length > t.nelems)
        this.fail(
          right.column,
          `${JSON.stringify(right.value)} is ${text.length} bytes; ${v.place.text} holds ${t.nelems}`,
        );
      if (text.length > MAX_STRING) this.fail(right.column, `strings of at most ${MAX_STRING} bytes`);
      const bytes = new Uint8Array(Math.min(text.length + 1, t.nelems));
      bytes.set(text);
      return { kind: 'bytes', place: { ...v.place, size: bytes.length }, op, bytes };
    }
    if (right.kind === 'str')
      this.fail(
        right.column,
        `${v.place.text} is ${typeName(this.btf, v.type)}: compare it with a number, not a string`,
      );
    let value: bigint;
    if (right.kind === 'num') value = right.value;
    else {
      const name = (right as { name: string }).name;
      value = this.enumerator(name, v.type, right.column);
    }
    return this.scalarCmp(v, op, value, right.column);
  }

  private enumerator(name: string, type: number, column: number): bigint {
    const t = this.btf.type(resolveType(this.btf, type));
    if (t.kind === 'enum' || t.kind === 'enum64') {
      const e = t.values.find((x) => x.name === name);
      if (e) return BigInt(e.value);
    }
    const index = enumeratorIndex(this.btf);
    const found = index.get(name);
    if (!found) {
      const near = closest(name, index.keys());
      this.fail(
        column,
        `${name} is neither a number nor an enumerator in the kernel's BTF${near.length ? ` (closest: ${near.join(', ')})` : ''}`,
      );
    }
    if (found.length > 1)
      this.fail(
        column,
        `enumerator ${name} has several values in the kernel's BTF (${found.join(', ')}): write the number`,
      );
    return found[0]!;
  }

  private scalarCmp(v: Value, op: CmpOp, constant: bigint, column: number): Cond {
    const place = v.place!;
    const t = this.btf.type(resolveType(this.btf, v.type));
    if (t.kind !== 'int' && t.kind !== 'enum' && t.kind !== 'enum64' && t.kind !== 'ptr') {
      this.fail(
        v.column,
        `${place.text} is ${typeName(this.btf, v.type)}, not an integer, enum, pointer or char array`,
      );
    }
    const signed =
      v.mask === undefined &&
      ((t.kind === 'int' && t.signed) || ((t.kind === 'enum' || t.kind === 'enum64') && t.signed));
    const width = place.bitSize ?? place.size * 8;
    const be = place.bitSize === undefined && /^__be(16|32|64)$/.test(typedefName(this.btf, v.type) ?? '');
    let value = constant;
    let mask = v.mask;
    if (
      mask !== undefined &&
      width < 64 &&
      mask >> BigInt(width) !== 0n &&
      (mask | ((1n << BigInt(width)) - 1n)) !== U64
    ) {
      this.fail(column, `mask 0x${mask.toString(16)} is wider than ${place.text} (${width} bits)`);
    }
    if (mask !== undefined && width < 64) mask &= (1n << BigInt(width)) - 1n;
    const max = 1n << BigInt(width);
    if (signed) {
      if (value < -(max >> 1n) || value >= max)
        this.fail(column, `${constant} does not fit ${place.text} (${width}-bit signed)`);
      if (value >= max >> 1n) value -= max; // 0xffffffff on an int is -1
    } else {
      if (value < 0n) {
        if (value < -(max >> 1n)) this.fail(column, `${constant} does not fit ${place.text} (${width}-bit unsigned)`);
        value += max; // -1 on a u32 is 0xffffffff
      }
      if (value >= max) this.fail(column, `0x${value.toString(16)} does not fit ${place.text} (${width}-bit unsigned)`);
    }
    if (be) {
      value = swap(value, place.size);
      if (mask !== undefined) mask = swap(mask, place.size);
    }
    return { kind: 'cmp', place, signed, ...(mask !== undefined ? { mask } : {}), op, value };
  }

  /** Resolves a value expression: the root, a member access, a mask, a cast. */
  private value(n: Node): Value {
    switch (n.kind) {
      case 'ident':
        if (n.name !== this.root.name)
          this.fail(n.column, `unknown name '${n.name}': an expression starts with ${this.root.name}`);
        return { type: this.rootId, struct: { id: this.rootId, hops: [], text: this.root.name }, column: n.column };
      case 'mask': {
        const v = this.value(n.value);
        if (!v.place) this.fail(n.column, `${v.struct!.text} is a pointer to a struct: mask one of its members`);
        if (n.mask.kind !== 'num' && (n.mask.kind !== 'ident' || n.mask.name === this.root.name)) {
          this.fail(n.mask.column, 'a mask is a constant (a number or an enumerator)');
        }
        const t = this.btf.type(resolveType(this.btf, v.type));
        if (t.kind !== 'int' && t.kind !== 'enum' && t.kind !== 'enum64' && t.kind !== 'ptr') {
          this.fail(
            n.column,
            `${v.place.text} is ${typeName(this.btf, v.type)}: only integers, enums and pointers can be masked`,
          );
        }
        const mask = (n.mask.kind === 'num' ? n.mask.value : this.enumerator(n.mask.name, v.type, n.mask.column)) & U64;
        return {
          ...v,
          mask: v.mask === undefined ? mask : v.mask & mask,
          place: { ...v.place, text: `${v.place.text} & 0x${mask.toString(16)}` },
        };
      }
      case 'cast': {
        const target = this.btf.findType(n.struct, 'struct');
        if (!target) {
          const near = closest(
            n.struct,
            [...this.btf.types('struct')].map((s) => s.name).filter((s) => s !== ''),
          );
          this.fail(
            n.column,
            `kernel BTF has no struct ${n.struct}${near.length ? ` (closest: ${near.join(', ')})` : ''}`,
          );
        }
        const v = this.value(n.operand);
        if (!v.place)
          return { ...v, struct: { ...v.struct!, id: target.id, text: `(struct ${n.struct} *)${v.struct!.text}` } };
        const t = this.btf.type(resolveType(this.btf, v.type));
        if (!(t.kind === 'ptr' || (t.kind === 'int' && t.size === 8)) || v.place.bitSize !== undefined) {
          this.fail(
            n.operand.column,
            `${v.place.text} is ${typeName(this.btf, v.type)}: only a pointer or a 64-bit integer can be cast to a pointer`,
          );
        }
        if (v.place.hops.length >= MAX_HOPS) this.fail(n.column, `more than ${MAX_HOPS} pointer reads`);
        const hop: Hop = { offset: v.place.offset, ...(v.mask !== undefined ? { mask: v.mask } : {}) };
        return {
          type: target.id,
          struct: { id: target.id, hops: [...v.place.hops, hop], text: `((struct ${n.struct} *)${v.place.text})` },
          column: n.column,
        };
      }
      case 'member': {
        const base = this.value(n.base);
        if (!base.struct)
          this.fail(
            n.members[0]!.column,
            `${base.place!.text} is not a pointer to a struct: cast it, '((struct name *)${base.place!.text})->${n.members[0]!.name}'`,
          );
        if (!n.members[0]!.arrow)
          this.fail(n.members[0]!.column, `${base.struct.text} is a pointer, use ${base.struct.text}->`);
        const path = this.memberPath(base.struct.id, n.members, base.struct.text);
        const hops: Hop[] = [...base.struct.hops];
        for (const l of path.loads.slice(0, -1)) hops.push({ offset: l.offset });
        if (hops.length > MAX_HOPS) this.fail(n.column, `more than ${MAX_HOPS} pointer reads`);
        const last = path.loads[path.loads.length - 1]!;
        const text = `${base.struct.text}->${pathText(n.members)}`;
        const t = this.btf.type(resolveType(this.btf, path.type));
        if (t.kind === 'array' || t.kind === 'struct' || t.kind === 'union') {
          // Not loaded as a scalar: the comparison checks (char arrays compare as bytes).
          return { type: path.type, place: { hops, offset: last.offset, size: 8, text }, column: n.column };
        }
        if (path.size > 8) this.fail(n.column, `${text} is ${path.size} bytes; at most 8 compare as a number`);
        const place: Place = {
          hops,
          offset: last.offset,
          size: last.size,
          ...(last.bitSize !== undefined ? { bitOffset: last.bitOffset ?? 0, bitSize: last.bitSize } : {}),
          text,
        };
        return { type: path.type, place, column: n.column };
      }
      case 'num':
      case 'str':
        return this.fail(n.column, 'a constant here: expected a member, like skb->mark');
      default:
        return this.fail(n.column, `a condition (${n.kind}) where a value is expected`);
    }
  }

  private memberPath(structId: number, members: readonly MemberRef[], baseText: string): MemberPath {
    try {
      return memberPath(this.btf, structId, pathText(members));
    } catch (e) {
      if (!(e instanceof BtfNotFoundError)) throw e;
    }
    // Find the first step that fails, to point at it and list what is there instead.
    for (let k = 0; k < members.length; k++) {
      try {
        memberPath(this.btf, structId, pathText(members.slice(0, k + 1)));
      } catch {
        const m = members[k]!;
        let container = this.btf.type(resolveType(this.btf, structId));
        if (k > 0) {
          const prev = memberPath(this.btf, structId, pathText(members.slice(0, k)));
          let pt = this.btf.type(resolveType(this.btf, prev.type));
          if (pt.kind === 'ptr' && m.arrow) pt = this.btf.type(resolveType(this.btf, pt.type));
          else if (pt.kind === 'ptr')
            this.fail(m.column, `${baseText}->${pathText(members.slice(0, k))} is a pointer: write '->${m.name}'`);
          else if (m.arrow && (pt.kind === 'struct' || pt.kind === 'union'))
            this.fail(m.column, `${baseText}->${pathText(members.slice(0, k))} is not a pointer: write '.${m.name}'`);
          else if (m.arrow) {
            const text = `${baseText}->${pathText(members.slice(0, k))}`;
            this.fail(
              m.column,
              `${text} is ${typeName(this.btf, pt.id)}, not a pointer to a struct: cast it, '((struct name *)${text})->${m.name}'`,
            );
          }
          container = pt;
        }
        if (container.kind !== 'struct' && container.kind !== 'union') {
          this.fail(
            m.column,
            `${baseText}->${pathText(members.slice(0, k))} is ${typeName(this.btf, container.id)}, it has no members`,
          );
        }
        const near = closest(m.name, memberNames(this.btf, container));
        const where = `${container.kind} ${container.name === '' ? '(anonymous)' : container.name}`;
        this.fail(m.column, `no member '${m.name}' in ${where}${near.length ? `; closest: ${near.join(', ')}` : ''}`);
      }
    }
    return this.fail(members[0]!.column, `cannot resolve ${pathText(members)}`);
  }
}
