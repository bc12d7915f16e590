import { isSigned, resolveType, sizeOf, type Btf, type BtfType } from 'btf-parser';
import { BpfError } from '../errors.js';

/** A CO-RE relocation the loader cannot compute (bad access string, ambiguous candidates, ...). */
export class CoreRelocationError extends BpfError {}

/** One step of an access path. */
export interface CoreAccess {
  /** Type id the step indexes into (a struct/union for members, an array for elements). */
  readonly typeId: number;
  readonly index: number;
  /** Member name (members only). */
  readonly name?: string;
}

/** A resolved field access: where the field lives and what it is, in one BTF. */
export interface FieldSpec {
  readonly btf: Btf;
  readonly rootId: number;
  readonly access: readonly CoreAccess[];
  /** Bit offset from the root pointer. */
  readonly bitOffset: number;
  /** Type id of the accessed field. */
  readonly typeId: number;
  /** Bitfield width (0 = not a bitfield). */
  readonly bitfieldSize: number;
}

/** Strips a `___flavor` suffix: `task_struct___old` → `task_struct`. */
export function essentialName(name: string): string {
  const i = name.indexOf('___');
  return i > 0 ? name.slice(0, i) : name;
}

/** The type with typedefs and qualifiers skipped. */
export function skipMods(btf: Btf, id: number): BtfType {
  return btf.type(resolveType(btf, id));
}

/** Parses `0:1:2` into numbers. */
export function parseAccessString(s: string): number[] {
  if (!/^\d+(:\d+)*$/.test(s)) throw new CoreRelocationError(`CO-RE access string "${s}" is malformed`);
  return s.split(':').map(Number);
}

/** Follows a local access string through the object's own BTF. */
export function localFieldSpec(btf: Btf, rootId: number, raw: readonly number[]): FieldSpec {
  let id = rootId;
  const rootSize = sizeOf(btf, rootId);
  let bitOffset = raw[0]! * rootSize * 8;
  let bitfieldSize = 0;
  const access: CoreAccess[] = [{ typeId: rootId, index: raw[0]! }];
  for (let i = 1; i < raw.length; i++) {
    const t = skipMods(btf, id);
    const idx = raw[i]!;
    if (t.kind === 'struct' || t.kind === 'union') {
      const m = t.members[idx];
      if (!m)
        throw new CoreRelocationError(
          `CO-RE access ${raw.join(':')}: ${t.name || 'anonymous struct'} has no member #${idx}`,
        );
      bitOffset += m.bitOffset;
      bitfieldSize = m.bitfieldSize;
      access.push({ typeId: t.id, index: idx, name: m.name || undefined });
      id = m.type;
    } else if (t.kind === 'array') {
      const elem = t.type;
      bitOffset += idx * sizeOf(btf, elem) * 8;
      bitfieldSize = 0;
      access.push({ typeId: t.id, index: idx });
      id = elem;
    } else {
      throw new CoreRelocationError(`CO-RE access ${raw.join(':')}: cannot index into a ${t.kind}`);
    }
  }
  return { btf, rootId, access, bitOffset, typeId: id, bitfieldSize };
}

/** Whether two field types are compatible for CO-RE (libbpf's loose field rules). */
export function fieldsCompatible(local: Btf, localId: number, target: Btf, targetId: number, depth = 0): boolean {
  if (depth > 32) return false;
  const l = skipMods(local, localId);
  const t = skipMods(target, targetId);
  const composite = (k: string) => k === 'struct' || k === 'union';
  if (composite(l.kind) && composite(t.kind)) return true;
  const enumLike = (k: string) => k === 'enum' || k === 'enum64';
  if (l.kind !== t.kind && !(enumLike(l.kind) && enumLike(t.kind))) return false;
  switch (l.kind) {
    case 'ptr':
    case 'float':
      return true;
    case 'fwd':
    case 'enum':
    case 'enum64':
      return !l.name || !t.name || essentialName(l.name) === essentialName(t.name);
    case 'int':
      return t.kind === 'int' && l.bitOffset === 0 && t.bitOffset === 0;
    case 'array':
      return t.kind === 'array' && fieldsCompatible(local, l.type, target, t.type, depth + 1);
    default:
      return false;
  }
}

/** Whether two types are compatible for type-based relocations (libbpf's bpf_core_types_are_compat). */
export function typesCompatible(local: Btf, localId: number, target: Btf, targetId: number, depth = 0): boolean {
  if (depth > 32) return false;
  const l = skipMods(local, localId);
  const t = skipMods(target, targetId);
  const enumLike = (k: string) => k === 'enum' || k === 'enum64';
  if (l.kind !== t.kind && !(enumLike(l.kind) && enumLike(t.kind))) return false;
  switch (l.kind) {
    case 'struct':
    case 'union':
    case 'fwd':
    case 'float':
    case 'enum':
    case 'enum64':
    case 'void':
      return true;
    case 'int':
      return t.kind === 'int' && l.bitOffset === 0 && t.bitOffset === 0;
    case 'ptr':
      return t.kind === 'ptr' && typesCompatible(local, l.type, target, t.type, depth + 1);
    case 'array':
      return t.kind === 'array' && typesCompatible(local, l.type, target, t.type, depth + 1);
    case 'func_proto': {
      if (t.kind !== 'func_proto' || l.params.length !== t.params.length) return false;
      if (!l.params.every((p, i) => typesCompatible(local, p.type, target, t.params[i]!.type, depth + 1))) return false;
      return typesCompatible(local, l.returnType, target, t.returnType, depth + 1);
    }
    default:
      return false;
  }
}

/** Finds a member by name in a target composite, looking through anonymous struct/union members. */
function matchMember(
  local: Btf,
  localMemberType: number,
  name: string,
  target: Btf,
  compositeId: number,
  bitOffset: number,
  path: CoreAccess[],
  depth = 0,
): { typeId: number; bitOffset: number; bitfieldSize: number } | undefined {
  if (depth > 32) return undefined;
  const t = skipMods(target, compositeId);
  if (t.kind !== 'struct' && t.kind !== 'union') return undefined;
  for (let i = 0; i < t.members.length; i++) {
    const m = t.members[i]!;
    const off = bitOffset + m.bitOffset;
    if (!m.name) {
      const mt = skipMods(target, m.type);
      if (mt.kind === 'struct' || mt.kind === 'union') {
        path.push({ typeId: t.id, index: i });
        const found = matchMember(local, localMemberType, name, target, mt.id, off, path, depth + 1);
        if (found) return found;
        path.pop();
      }
      continue;
    }
    if (m.name !== name) continue;
    if (!fieldsCompatible(local, localMemberType, target, m.type)) return undefined;
    path.push({ typeId: t.id, index: i, name });
    return { typeId: m.type, bitOffset: off, bitfieldSize: m.bitfieldSize };
  }
  return undefined;
}

/** Matches a local field spec against a target root candidate; undefined when the field is missing there. */
export function matchFieldSpec(localSpec: FieldSpec, target: Btf, targetRootId: number): FieldSpec | undefined {
  const local = localSpec.btf;
  const first = localSpec.access[0]!;
  let bitOffset = first.index * sizeOf(target, targetRootId) * 8;
  let id = targetRootId;
  let bitfieldSize = 0;
  const access: CoreAccess[] = [{ typeId: targetRootId, index: first.index }];
  for (let i = 1; i < localSpec.access.length; i++) {
    const a = localSpec.access[i]!;
    const lt = skipMods(local, a.typeId);
    if (lt.kind === 'struct' || lt.kind === 'union') {
      const lm = lt.members[a.index]!;
      if (!a.name) {
        // An anonymous member in the local type: the target must have the same layout step.
        const tt = skipMods(target, id);
        if (tt.kind !== 'struct' && tt.kind !== 'union') return undefined;
        const tm = tt.members[a.index];
        if (!tm || !fieldsCompatible(local, lm.type, target, tm.type)) return undefined;
        bitOffset += tm.bitOffset;
        bitfieldSize = tm.bitfieldSize;
        access.push({ typeId: tt.id, index: a.index });
        id = tm.type;
        continue;
      }
      const found = matchMember(local, lm.type, a.name, target, id, bitOffset, access);
      if (!found) return undefined;
      bitOffset = found.bitOffset;
      bitfieldSize = found.bitfieldSize;
      id = found.typeId;
    } else {
      const tt = skipMods(target, id);
      if (tt.kind !== 'array') return undefined;
      if (tt.nelems !== 0 && a.index >= tt.nelems) return undefined;
      bitOffset += a.index * sizeOf(target, tt.type) * 8;
      bitfieldSize = 0;
      access.push({ typeId: tt.id, index: a.index });
      id = tt.type;
    }
  }
  return { btf: target, rootId: targetRootId, access, bitOffset, typeId: id, bitfieldSize };
}

/** The value of a field relocation kind for a resolved spec (libbpf's bpf_core_calc_field_relo). */
export function fieldValue(
  spec: FieldSpec,
  kind: number,
): { value: number; size?: number; adjustable: boolean; noValidate?: boolean } {
  const btf = spec.btf;
  const mt = skipMods(btf, spec.typeId);
  const bitfield = spec.bitfieldSize > 0;
  let byteSize = sizeOf(btf, spec.typeId);
  let byteOff = Math.floor(spec.bitOffset / 8);
  let bitSize = byteSize * 8;
  if (bitfield) {
    bitSize = spec.bitfieldSize;
    byteOff = Math.floor(spec.bitOffset / 8 / byteSize) * byteSize;
    while (spec.bitOffset + bitSize - byteOff * 8 > byteSize * 8) {
      if (byteSize >= 8) throw new CoreRelocationError('CO-RE: a bitfield spans more than 8 bytes');
      byteSize *= 2;
      byteOff = Math.floor(spec.bitOffset / 8 / byteSize) * byteSize;
    }
  }
  const adjustable = mt.kind === 'int' || mt.kind === 'enum' || mt.kind === 'enum64' || mt.kind === 'ptr';
  // Clang may pick another load unit for a bitfield than this computation: libbpf does not
  // check what the instruction holds for them either.
  const noValidate = bitfield;
  switch (kind) {
    case 0:
      return { value: byteOff, size: bitfield ? undefined : byteSize, adjustable, noValidate };
    case 1:
      return { value: byteSize, adjustable, noValidate };
    case 2:
      return { value: 1, adjustable };
    case 3:
      return { value: isSigned(btf, spec.typeId) ? 1 : 0, adjustable };
    case 4:
      return { value: 64 - (spec.bitOffset + bitSize - byteOff * 8), adjustable, noValidate };
    case 5:
      return { value: 64 - bitSize, adjustable, noValidate };
    default:
      throw new CoreRelocationError(`CO-RE relocation kind ${kind} is not a field kind`);
  }
}
