import { describe, type Btf } from './btf.js';
import { BtfError, BtfNotFoundError } from './errors.js';
import { isSigned, pointerSize, resolveType, sizeOf } from './resolve.js';
import type { BtfMember, CompositeType } from './types.js';

/** One member access along a path. */
export interface MemberStep {
  /** Member name as written in the path. */
  readonly name: string;
  /** Id of the named struct/union the path looked the member up in. */
  readonly container: number;
  /** The member's declared type id. */
  readonly type: number;
  /** Byte offset from the object the current base pointer points at (bit offset / 8, rounded down). */
  readonly offset: number;
  /** Bit offset from the same base. */
  readonly bitOffset: number;
  /** Bitfield width in bits, 0 for an ordinary member. */
  readonly bitfieldSize: number;
  /** Size in bytes of the member's type. */
  readonly size: number;
  /** True when the member's type is a signed integer or signed enum. */
  readonly signed: boolean;
  /** True when the path continues with `->`: this member is a pointer to load and follow. */
  readonly deref: boolean;
}

/**
 * One memory read a code generator emits. The first load reads from the root pointer, each later
 * load from the pointer the previous load produced. All but the last load read a pointer.
 */
export interface MemberLoad {
  /** Byte offset from the current base pointer. */
  readonly offset: number;
  /** Bytes to read (a pointer, the member, or the storage unit holding a bitfield). */
  readonly size: number;
  /** True when the loaded value is a pointer the next load goes through. */
  readonly deref: boolean;
  /** For a bitfield: bit position of the field's least significant bit in the loaded unit (little-endian numbering). */
  readonly bitOffset?: number;
  /** For a bitfield: width in bits. */
  readonly bitSize?: number;
}

/** The resolved path: per-member steps and the loads that read the final value. */
export interface MemberPath {
  /** Root type id (a struct or union, or a pointer to one). */
  readonly root: number;
  readonly path: string;
  readonly steps: readonly MemberStep[];
  readonly loads: readonly MemberLoad[];
  /** Type id of the last member. */
  readonly type: number;
  /** Size in bytes of the last member's type. */
  readonly size: number;
  readonly signed: boolean;
  /** Bitfield width of the last member, 0 when not a bitfield. */
  readonly bitfieldSize: number;
}

interface Segment {
  readonly name: string;
  readonly arrow: boolean;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/;

function parsePath(path: string): Segment[] {
  const segs: Segment[] = [];
  let rest = path.trim();
  let arrow = false;
  for (;;) {
    const m = IDENT.exec(rest);
    if (!m) throw new BtfNotFoundError(`bad member path '${path}': expected a member name at '${rest}'`);
    segs.push({ name: m[0], arrow });
    rest = rest.slice(m[0].length).trimStart();
    if (rest === '') return segs;
    if (rest.startsWith('->')) arrow = true;
    else if (rest.startsWith('.')) arrow = false;
    else throw new BtfNotFoundError(`bad member path '${path}': expected '.' or '->' at '${rest}'`);
    rest = rest.slice(arrow ? 2 : 1).trimStart();
  }
}

interface Found {
  readonly member: BtfMember;
  readonly bitOffset: number;
}

/** Finds a member by name, searching through anonymous struct/union members. */
export function findMember(btf: Btf, t: CompositeType, name: string, depth = 0): Found | undefined {
  if (depth > 32) throw new BtfError(`anonymous members of ${describe(t)} nest deeper than 32 (a cycle?)`);
  for (const m of t.members) {
    if (m.name === name) return { member: m, bitOffset: m.bitOffset };
  }
  for (const m of t.members) {
    if (m.name !== '') continue;
    const inner = btf.type(resolveType(btf, m.type));
    if (inner.kind !== 'struct' && inner.kind !== 'union') continue;
    const f = findMember(btf, inner, name, depth + 1);
    if (f) return { member: f.member, bitOffset: m.bitOffset + f.bitOffset };
  }
  return undefined;
}

function composite(btf: Btf, id: number): CompositeType | undefined {
  const t = btf.type(resolveType(btf, id));
  return t.kind === 'struct' || t.kind === 'union' ? t : undefined;
}

/**
 * Resolves a C member path on a struct: `memberPath(btf, skb, 'dev->nd_net.net->ns.inum')`,
 * `'head'`, or a bitfield like `'pkt_type'`. `.` stays in the same object, `->` dereferences the
 * pointer member before it. Anonymous members are searched through. Throws `BtfNotFoundError`
 * naming the missing member and the type it was looked up in.
 */
export function memberPath(btf: Btf, root: number | CompositeType | { id: number }, path: string): MemberPath {
  const rootId = typeof root === 'number' ? root : root.id;
  let cur = composite(btf, rootId);
  if (!cur) {
    const r = btf.type(resolveType(btf, rootId));
    if (r.kind === 'ptr') cur = composite(btf, r.type);
    if (!cur) throw new BtfNotFoundError(`member path '${path}' needs a struct or union, not ${describe(r)}`);
  }
  const segs = parsePath(path);
  const steps: MemberStep[] = [];
  const loads: MemberLoad[] = [];
  let base = 0; // bit offset of `cur` from the current base pointer
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    if (i > 0) {
      const prev = steps[i - 1]!;
      const prevType = btf.type(resolveType(btf, prev.type));
      if (seg.arrow) {
        const target = prevType.kind === 'ptr' ? composite(btf, prevType.type) : undefined;
        if (!target) {
          throw new BtfNotFoundError(
            `'${prev.name}' in ${path} is ${describe(prevType)}, not a pointer to a struct or union: cannot use '->${seg.name}'`,
          );
        }
        loads.push({ offset: prev.offset, size: pointerSize(btf), deref: true });
        cur = target;
        base = 0;
      } else {
        if (prevType.kind === 'ptr') {
          throw new BtfNotFoundError(`'${prev.name}' in ${path} is a pointer: write '${prev.name}->${seg.name}'`);
        }
        const target = composite(btf, prev.type);
        if (!target) {
          throw new BtfNotFoundError(`'${prev.name}' in ${path} is ${describe(prevType)}, not a struct or union`);
        }
        cur = target;
        base = prev.bitOffset;
      }
    }
    const found = findMember(btf, cur, seg.name);
    if (!found) throw new BtfNotFoundError(`no member '${seg.name}' in ${describe(cur)} (type id ${cur.id})`);
    const bitOffset = base + found.bitOffset;
    const m = found.member;
    steps.push({
      name: seg.name,
      container: cur.id,
      type: m.type,
      offset: Math.floor(bitOffset / 8),
      bitOffset,
      bitfieldSize: m.bitfieldSize,
      size: sizeOf(btf, m.type),
      signed: isSigned(btf, m.type),
      deref: i + 1 < segs.length && segs[i + 1]!.arrow,
    });
  }
  const last = steps[steps.length - 1]!;
  loads.push(finalLoad(last));
  return {
    root: rootId,
    path,
    steps,
    loads,
    type: last.type,
    size: last.size,
    signed: last.signed,
    bitfieldSize: last.bitfieldSize,
  };
}

/** The load for the last member; for a bitfield, the smallest aligned unit that holds it (as libbpf's CO-RE does). */
function finalLoad(step: MemberStep): MemberLoad {
  if (step.bitfieldSize === 0) {
    if (step.bitOffset % 8 !== 0) throw new BtfError(`member '${step.name}' is not byte aligned and not a bitfield`);
    return { offset: step.offset, size: step.size, deref: false };
  }
  let size = Math.max(1, step.size);
  let offset = Math.floor(step.bitOffset / 8 / size) * size;
  while (step.bitOffset + step.bitfieldSize - offset * 8 > size * 8) {
    if (size >= 8) throw new BtfError(`bitfield '${step.name}' does not fit in an 8-byte load`);
    size *= 2;
    offset = Math.floor(step.bitOffset / 8 / size) * size;
  }
  return { offset, size, deref: false, bitOffset: step.bitOffset - offset * 8, bitSize: step.bitfieldSize };
}
