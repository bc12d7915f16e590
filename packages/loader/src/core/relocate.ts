import { sizeOf, type Btf } from 'btf-parser';
import { CoreReloKind, type CoreReloRecord } from '../object/btf-ext.js';
import {
  CoreRelocationError,
  essentialName,
  fieldValue,
  localFieldSpec,
  matchFieldSpec,
  parseAccessString,
  skipMods,
  typesCompatible,
} from './spec.js';

/** Where CO-RE looks for target types: vmlinux first, then (lazily) module BTF. */
export interface CoreTargets {
  /** The kernel's vmlinux BTF. */
  readonly vmlinux: Btf;
  /** Module BTFs, asked for only when vmlinux has no candidate. */
  readonly modules?: () => readonly Btf[];
}

/** What one relocation did, for tests and debugging. */
export interface CoreRelocationResult {
  readonly insn: number;
  readonly kind: number;
  /** The value computed from the object's own BTF (what clang put in the instruction). */
  readonly local: number;
  /** The value written, or undefined when the instruction was poisoned. */
  readonly target: number | undefined;
}

/** `call 0xbad2310`: what libbpf writes over an instruction whose relocation failed. */
export const POISON_IMM = 0xbad2310;

const FIELD_KINDS = new Set<number>([0, 1, 2, 3, 4, 5]);
const TYPE_KINDS = new Set<number>([6, 7, 8, 9, 12]);

interface Resolved {
  value: number;
  noValidate?: boolean;
  size?: number;
  adjustable?: boolean;
}

const candidateCache = new WeakMap<Btf, Map<string, number[]>>();

function candidates(target: Btf, name: string): number[] {
  let cache = candidateCache.get(target);
  if (!cache) candidateCache.set(target, (cache = new Map()));
  let ids = cache.get(name);
  if (!ids) cache.set(name, (ids = target.idsByName(name)));
  return ids;
}

function sameKind(a: string, b: string): boolean {
  const e = (k: string) => (k === 'enum64' ? 'enum' : k);
  return e(a) === e(b);
}

/**
 * Applies the CO-RE relocations of one code section to its instructions (modified in place),
 * libbpf-style: every target candidate with the essential name of the local root type is tried;
 * all that match must agree. A relocation without a match writes 0 for the existence kinds and
 * poisons the instruction otherwise, so that a guarded branch still verifies.
 */
export function applyCoreRelocations(
  local: Btf,
  insns: Uint8Array,
  records: readonly CoreReloRecord[],
  targets: CoreTargets,
  section = '',
): CoreRelocationResult[] {
  const v = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
  const results: CoreRelocationResult[] = [];
  let modules: readonly Btf[] | undefined;
  for (const r of records) {
    const where = `CO-RE relocation at ${section} instruction ${r.insn}`;
    if (r.insn * 8 + 8 > insns.length) throw new CoreRelocationError(`${where}: outside the section`);
    const access = local.str(r.accessStrOff);
    const localRes = resolveLocal(local, r, access, where);
    let target: Resolved | undefined;
    if (r.kind === CoreReloKind.TYPE_ID_LOCAL) {
      target = localRes;
    } else {
      const rootName = essentialName(local.nameOf(r.typeId));
      if (!rootName)
        throw new CoreRelocationError(`${where}: the root type has no name, so nothing in the kernel can match it`);
      const localKind = local.kindNameOf(r.typeId);
      const search = (btf: Btf): Resolved[] => {
        const out: Resolved[] = [];
        for (const id of candidates(btf, rootName)) {
          if (!sameKind(btf.kindNameOf(id), localKind)) continue;
          const res = resolveTarget(local, r, access, btf, id, where);
          if (res) out.push(res);
        }
        return out;
      };
      let found = search(targets.vmlinux);
      if (found.length === 0 && targets.modules) {
        modules ??= targets.modules();
        for (const m of modules) {
          found = search(m);
          if (found.length) break;
        }
      }
      if (found.length > 1 && found.some((f) => f.value !== found[0]!.value)) {
        throw new CoreRelocationError(
          `${where}: ${found.length} kernel types named ${rootName} give different results (${found.map((f) => f.value).join(', ')})`,
        );
      }
      target = found[0];
      if (
        !target &&
        (r.kind === CoreReloKind.FIELD_EXISTS ||
          r.kind === CoreReloKind.TYPE_EXISTS ||
          r.kind === CoreReloKind.ENUMVAL_EXISTS ||
          r.kind === CoreReloKind.TYPE_MATCHES)
      ) {
        target = { value: 0 };
      }
    }
    patch(v, r.insn, localRes, target, where);
    results.push({ insn: r.insn, kind: r.kind, local: localRes.value, target: target?.value });
  }
  return results;
}

function resolveLocal(btf: Btf, r: CoreReloRecord, access: string, where: string): Resolved {
  const raw = parseAccessString(access);
  if (FIELD_KINDS.has(r.kind)) return fieldValue(localFieldSpec(btf, r.typeId, raw), r.kind);
  if (TYPE_KINDS.has(r.kind)) {
    if (r.kind === CoreReloKind.TYPE_SIZE) return { value: sizeOf(btf, r.typeId) };
    if (r.kind === CoreReloKind.TYPE_ID_LOCAL || r.kind === CoreReloKind.TYPE_ID_TARGET) return { value: r.typeId };
    return { value: 1 };
  }
  if (r.kind === CoreReloKind.ENUMVAL_EXISTS || r.kind === CoreReloKind.ENUMVAL_VALUE) {
    const e = skipMods(btf, r.typeId);
    if (e.kind !== 'enum' && e.kind !== 'enum64')
      throw new CoreRelocationError(`${where}: enum relocation on a ${e.kind}`);
    const val = e.values[raw[0]!];
    if (!val) throw new CoreRelocationError(`${where}: enum ${e.name} has no value #${raw[0]}`);
    return { value: r.kind === CoreReloKind.ENUMVAL_EXISTS ? 1 : Number(val.value) };
  }
  throw new CoreRelocationError(`${where}: unknown CO-RE relocation kind ${r.kind}`);
}

function resolveTarget(
  local: Btf,
  r: CoreReloRecord,
  access: string,
  btf: Btf,
  id: number,
  where: string,
): Resolved | undefined {
  const raw = parseAccessString(access);
  if (FIELD_KINDS.has(r.kind)) {
    const spec = matchFieldSpec(localFieldSpec(local, r.typeId, raw), btf, id);
    return spec ? fieldValue(spec, r.kind) : undefined;
  }
  if (TYPE_KINDS.has(r.kind)) {
    if (!typesCompatible(local, r.typeId, btf, id)) return undefined;
    if (r.kind === CoreReloKind.TYPE_SIZE) return { value: sizeOf(btf, id) };
    if (r.kind === CoreReloKind.TYPE_ID_TARGET) return { value: id };
    return { value: 1 };
  }
  // Enum values: match the enumerator by essential name.
  const le = skipMods(local, r.typeId);
  const te = skipMods(btf, id);
  if ((le.kind !== 'enum' && le.kind !== 'enum64') || (te.kind !== 'enum' && te.kind !== 'enum64')) return undefined;
  const name = essentialName(le.values[raw[0]!]?.name ?? '');
  const tv = te.values.find((x) => essentialName(x.name) === name);
  if (!tv) return undefined;
  void where;
  return { value: r.kind === CoreReloKind.ENUMVAL_EXISTS ? 1 : Number(tv.value) };
}

const BPF_LD = 0x00;
const BPF_LDX = 0x01;
const BPF_ST = 0x02;
const BPF_STX = 0x03;
const BPF_ALU = 0x04;
const BPF_ALU64 = 0x07;
const SIZE_BYTES: Record<number, number> = { 0x00: 4, 0x08: 2, 0x10: 1, 0x18: 8 };
const BYTES_SIZE: Record<number, number> = { 4: 0x00, 2: 0x08, 1: 0x10, 8: 0x18 };

function poison(v: DataView, insn: number): void {
  v.setUint8(insn * 8, 0x85);
  v.setUint8(insn * 8 + 1, 0);
  v.setInt16(insn * 8 + 2, 0, true);
  v.setInt32(insn * 8 + 4, POISON_IMM, true);
}

function patch(v: DataView, insn: number, local: Resolved, target: Resolved | undefined, where: string): void {
  const o = insn * 8;
  const op = v.getUint8(o);
  const cls = op & 7;
  if (!target) {
    if (op === 0x18 && o + 16 <= v.byteLength) poison(v, insn + 1);
    poison(v, insn);
    return;
  }
  const value = target.value;
  if (cls === BPF_ALU || cls === BPF_ALU64) {
    if (op & 0x08)
      throw new CoreRelocationError(`${where}: an ALU instruction with a register operand cannot be relocated`);
    const imm = v.getInt32(o + 4, true);
    if (!local.noValidate && imm !== (local.value | 0))
      throw new CoreRelocationError(`${where}: the instruction holds ${imm}, not the expected ${local.value}`);
    v.setInt32(o + 4, value | 0, true);
    return;
  }
  if (cls === BPF_LDX || cls === BPF_ST || cls === BPF_STX) {
    const off = v.getInt16(o + 2, true);
    if (!local.noValidate && off !== local.value)
      throw new CoreRelocationError(`${where}: the instruction's offset is ${off}, not the expected ${local.value}`);
    if (value > 0x7fff) throw new CoreRelocationError(`${where}: offset ${value} does not fit an instruction`);
    v.setInt16(o + 2, value, true);
    if (local.size !== undefined && target.size !== undefined && local.size !== target.size) {
      const insnSize = SIZE_BYTES[op & 0x18];
      if (insnSize !== local.size)
        throw new CoreRelocationError(`${where}: the instruction reads ${insnSize} bytes, the field has ${local.size}`);
      const size = BYTES_SIZE[target.size];
      if (!target.adjustable || size === undefined) {
        throw new CoreRelocationError(
          `${where}: the field is ${target.size} bytes on this kernel, ${local.size} in the object`,
        );
      }
      v.setUint8(o, (op & ~0x18) | size);
    }
    return;
  }
  if (cls === BPF_LD && op === 0x18) {
    if (o + 16 > v.byteLength) throw new CoreRelocationError(`${where}: truncated 64-bit load`);
    const imm = (BigInt(v.getUint32(o + 12, true)) << 32n) | BigInt(v.getUint32(o + 4, true));
    if (!local.noValidate && imm !== BigInt(local.value))
      throw new CoreRelocationError(`${where}: the instruction loads ${imm}, not the expected ${local.value}`);
    const nv = BigInt.asUintN(64, BigInt(value));
    v.setUint32(o + 4, Number(nv & 0xffffffffn), true);
    v.setUint32(o + 12, Number(nv >> 32n), true);
    return;
  }
  throw new CoreRelocationError(`${where}: cannot relocate opcode 0x${op.toString(16)}`);
}
