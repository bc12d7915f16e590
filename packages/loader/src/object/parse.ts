import { Btf, resolveType, sizeOf } from 'btf-parser';
import { BpfError } from '../errors.js';
import {
  ElfError,
  parseElf,
  SectionType,
  SHF_EXECINSTR,
  SymbolType,
  type ElfFile,
  type ElfSection,
  type ElfSymbol,
} from '../elf/elf.js';
import { parseBtfExt, type BtfExt, type CoreReloRecord, type FuncInfoRecord, type LineInfoRecord } from './btf-ext.js';
import { dataMap, isDataSection, parseBtfMap, parseLegacyMap, type ObjectMapSpec } from './maps.js';
import { layoutKconfig, type KconfigSlot } from './kconfig.js';
import { resolveSection, type ResolvedSection } from './sections.js';

/** What an instruction's ELF relocation refers to. */
export type InsnReference =
  | { readonly kind: 'map'; readonly map: string }
  | { readonly kind: 'data'; readonly map: string; readonly offset: number }
  | { readonly kind: 'call'; readonly section: number; readonly insn: number }
  | { readonly kind: 'func'; readonly section: number; readonly insn: number }
  | { readonly kind: 'extern'; readonly name: string; readonly symbol: ElfSymbol };

/** A function in a code section: a program entry point or a subprogram. */
export interface ObjectFunction {
  readonly name: string;
  /** ELF section index and name. */
  readonly section: number;
  readonly sectionName: string;
  /** First instruction (index within the section) and count. */
  readonly start: number;
  readonly length: number;
}

/** A program of the object: an entry point in a non-.text code section. */
export interface ObjectProgramSpec extends ObjectFunction {
  /** How its section name maps to a program type and attach kind. */
  readonly def: ResolvedSection;
}

/** A code section: its instructions and what they reference. */
export interface CodeSection {
  readonly index: number;
  readonly name: string;
  /** The instructions, 8 bytes each. */
  readonly insns: Uint8Array;
  /** ELF relocations by instruction index. */
  readonly refs: ReadonlyMap<number, InsnReference>;
  readonly funcInfo: readonly FuncInfoRecord[];
  readonly lineInfo: readonly LineInfoRecord[];
  readonly coreRelos: readonly CoreReloRecord[];
}

/** A `__ksym` extern the object declares: a kfunc, a typed kernel variable, or an untyped symbol. */
export interface ObjectExtern {
  readonly name: string;
  /** `kfunc` (a FUNC), `var` (a VAR of a BTF type: resolved to its kernel BTF id), `symbol` (`const void`: its address). */
  readonly kind: 'kfunc' | 'var' | 'symbol';
  /** Object BTF id of the VAR or FUNC. */
  readonly typeId: number;
  readonly weak: boolean;
}

/** A parsed BPF object: everything needed to load it, and nothing tied to the kernel. */
export interface ObjectSpec {
  /** Object name (the file name up to its first dot, as libbpf names it). */
  readonly name: string;
  readonly license: string;
  /** The object's BTF, with DATASEC sizes and variable offsets fixed from the ELF symbols. */
  readonly btf: Btf | undefined;
  readonly ext: BtfExt | undefined;
  readonly programs: readonly ObjectProgramSpec[];
  /** Every function of every code section (programs and subprograms). */
  readonly functions: readonly ObjectFunction[];
  readonly code: ReadonlyMap<number, CodeSection>;
  readonly maps: readonly ObjectMapSpec[];
  readonly externs: readonly ObjectExtern[];
  /** Map-in-map slots filled at load (`.values = { [i] = &inner }`): outer map, index, inner map. */
  readonly mapSlots?: readonly { readonly outer: string; readonly index: number; readonly inner: string }[];
  /** `__kconfig` externs declared `__weak` (missing values read as 0 instead of failing). */
  readonly kconfigWeak?: readonly string[];
}

/** An object file the loader cannot make sense of. */
export class ObjectError extends ElfError {}

const R_BPF_64_64 = 1;
const R_BPF_64_ABS64 = 2;
const R_BPF_64_ABS32 = 3;
const R_BPF_64_NODYLD32 = 4;
const R_BPF_64_32 = 10;

/**
 * Parses a clang-built BPF object file. Anything malformed, in the ELF or in its BTF, is
 * reported as an {@link ElfError} (or a subclass), never as a bare TypeError or RangeError.
 */
export function parseObject(bytes: Uint8Array, name = 'obj'): ObjectSpec {
  try {
    return parse(bytes, name);
  } catch (e) {
    if (e instanceof BpfError) throw e;
    throw new ObjectError(`malformed BPF object ${name}: ${(e as Error).message}`, { cause: e });
  }
}

function parse(bytes: Uint8Array, name: string): ObjectSpec {
  const elf = parseElf(bytes);
  const objName = name.replace(/^.*\//, '').split('.')[0]!.slice(0, 15) || 'obj';
  const { btf, kconfig, externs } = parseBtf(elf);
  let ext: BtfExt | undefined;
  const extSec = elf.section('.BTF.ext');
  if (btf && extSec) {
    ext = parseBtfExt(extSec.data, (off) => {
      try {
        return btf.str(off);
      } catch {
        throw new ObjectError(`.BTF.ext names string offset ${off}, outside the object's BTF strings`);
      }
    });
  }
  const licenseSec = elf.section('license');
  const license = licenseSec ? new TextDecoder().decode(licenseSec.data).replace(/\0.*$/s, '') : '';

  const maps: ObjectMapSpec[] = [];
  const mapBySection = new Map<number, ObjectMapSpec[]>();
  const addMap = (m: ObjectMapSpec, section: number) => {
    if (maps.some((x) => x.name === m.name)) throw new ObjectError(`map "${m.name}" is defined twice`);
    maps.push(m);
    const list = mapBySection.get(section) ?? [];
    list.push(m);
    mapBySection.set(section, list);
  };
  const symbolsIn = (sec: number) =>
    elf.symbols.filter((s) => s.section === sec && s.name !== '' && s.type !== SymbolType.SECTION);

  // BTF-defined maps in .maps.
  const mapsSec = elf.section('.maps');
  if (mapsSec) {
    if (!btf) throw new ObjectError('the object has a .maps section but no .BTF: compile with -g');
    const ds = btf.findType('.maps', 'datasec');
    if (!ds) throw new ObjectError('the object BTF has no .maps DATASEC');
    for (const v of ds.vars) {
      const vt = btf.type(v.type);
      if (vt.kind !== 'var') throw new ObjectError('.maps DATASEC holds a non-variable');
      addMap(parseBtfMap(btf, vt.name, vt.type, vt.name.slice(0, 15)), mapsSec.index);
    }
  }
  // Map-in-map initial slots: relocations in .maps pointing into an outer map's `values` array.
  const mapSlots: { outer: string; index: number; inner: string }[] = [];
  if (mapsSec && btf) {
    const ds = btf.findType('.maps', 'datasec')!;
    for (const r of elf.relocations.get(mapsSec.index) ?? []) {
      const sym = elf.symbols[r.symbol]!;
      const dv = ds.vars.find((x) => r.offset >= x.offset && r.offset < x.offset + x.size);
      if (!dv) throw new ObjectError(`a relocation at byte ${r.offset} of .maps lies outside every map definition`);
      const outer = btf.nameOf(dv.type);
      const st = btf.type(resolveType(btf, btf.typeOfKind(dv.type, 'var').type));
      const values = st.kind === 'struct' ? st.members.find((m) => m.name === 'values') : undefined;
      if (!values)
        throw new ObjectError(
          `map "${outer}" has an initializer the loader does not know (only .values of map-in-map)`,
        );
      const rel = r.offset - dv.offset - values.bitOffset / 8;
      if (rel < 0 || rel % 8 !== 0) throw new ObjectError(`map "${outer}": a .values entry is not pointer-aligned`);
      if (!maps.some((m) => m.name === sym.name))
        throw new ObjectError(`map "${outer}": .values names "${sym.name}", which is not a map of .maps`);
      mapSlots.push({ outer, index: rel / 8, inner: sym.name });
    }
  }
  // Legacy maps.
  const legacy = elf.section('maps');
  if (legacy) {
    for (const s of symbolsIn(legacy.index)) {
      const size = s.size > 0 ? s.size : 20;
      if (s.value < 0 || s.value + size > legacy.data.length)
        throw new ObjectError(`legacy map "${s.name}" lies outside the maps section`);
      addMap(parseLegacyMap(s.name, legacy.data.subarray(s.value, s.value + size)), legacy.index);
    }
  }
  // Global data.
  for (const s of elf.sections) {
    if (!isDataSection(s.name) || (s.type !== SectionType.PROGBITS && s.type !== SectionType.NOBITS)) continue;
    if (s.flags & SHF_EXECINSTR) continue;
    if (s.size === 0) continue;
    const bytesOf = s.type === SectionType.NOBITS ? new Uint8Array(s.size) : s.data.slice();
    const datasec = btf?.findType(s.name, 'datasec');
    addMap(dataMap(objName, s.name, bytesOf, datasec?.id ?? 0), s.index);
  }

  // __kconfig externs: a read-only map libbpf names <object>.kconfig, filled at load.
  if (kconfig && kconfig.size > 0) {
    const m = dataMap(objName, '.kconfig', new Uint8Array(kconfig.size), kconfig.datasecId);
    maps.push({ ...m, data: { ...m.data!, readonly: true } });
  }

  // Code sections, their functions and relocations.
  const functions: ObjectFunction[] = [];
  const programs: ObjectProgramSpec[] = [];
  const code = new Map<number, CodeSection>();
  for (const s of elf.sections) {
    if (s.type !== SectionType.PROGBITS || !(s.flags & SHF_EXECINSTR) || s.size === 0) continue;
    if (s.size % 8 !== 0)
      throw new ObjectError(`code section ${s.name} is ${s.size} bytes, not a whole number of instructions`);
    const def = s.name === '.text' ? undefined : resolveSection(s.name);
    if (s.name !== '.text' && !def) {
      throw new ObjectError(
        `section "${s.name}" is not a program type libbpf knows: use SEC("kprobe/..."), SEC("xdp"), SEC("tp_btf/..."), ...`,
      );
    }
    const funcs = symbolsIn(s.index)
      .filter((x) => x.type === SymbolType.FUNC)
      .sort((a, b) => a.value - b.value);
    const insnCount = s.size / 8;
    for (const f of funcs) {
      if (f.value % 8 !== 0 || f.size % 8 !== 0 || f.value + f.size > s.size) {
        throw new ObjectError(`function ${f.name} in ${s.name} is not aligned to instructions`);
      }
      const fn: ObjectFunction = {
        name: f.name,
        section: s.index,
        sectionName: s.name,
        start: f.value / 8,
        length: (f.size || s.size - f.value) / 8,
      };
      functions.push(fn);
      if (def) programs.push({ ...fn, def });
    }
    code.set(s.index, {
      index: s.index,
      name: s.name,
      insns: s.data.slice(),
      refs: insnRefs(elf, s, insnCount, mapBySection, kconfig?.slots),
      funcInfo: ext?.funcInfo.get(s.name) ?? [],
      lineInfo: ext?.lineInfo.get(s.name) ?? [],
      coreRelos: ext?.coreRelos.get(s.name) ?? [],
    });
  }
  if (programs.length === 0) throw new ObjectError('the object has no programs: put each in a SEC("...") function');
  const kconfigWeak = kconfig?.slots.filter((k) => k.weak).map((k) => k.name);
  return { name: objName, license, btf, ext, programs, functions, code, maps, externs, kconfigWeak, mapSlots };
}

function insnRefs(
  elf: ElfFile,
  sec: ElfSection,
  insnCount: number,
  mapBySection: Map<number, ObjectMapSpec[]>,
  kconfig: readonly KconfigSlot[] | undefined,
): Map<number, InsnReference> {
  const refs = new Map<number, InsnReference>();
  const v = new DataView(sec.data.buffer, sec.data.byteOffset, sec.data.byteLength);
  for (const r of elf.relocations.get(sec.index) ?? []) {
    if (r.offset < 0 || r.offset % 8 !== 0 || r.offset / 8 >= insnCount) {
      throw new ObjectError(`relocation at byte ${r.offset} of ${sec.name} does not point at an instruction`);
    }
    const at = r.offset / 8;
    const sym = elf.symbols[r.symbol]!;
    const opcode = sec.data[r.offset]!;
    const isLdImm64 = opcode === 0x18;
    const isCall = opcode === 0x85;
    const where = `${sec.name} instruction ${at}`;
    if (
      r.type !== R_BPF_64_64 &&
      r.type !== R_BPF_64_32 &&
      r.type !== R_BPF_64_ABS64 &&
      r.type !== R_BPF_64_ABS32 &&
      r.type !== R_BPF_64_NODYLD32
    ) {
      throw new ObjectError(`${where}: unsupported relocation type ${r.type}`);
    }
    if (sym.section === 0) {
      if (!sym.name) throw new ObjectError(`${where}: relocation against an unnamed undefined symbol`);
      const slot = kconfig?.find((k) => k.name === sym.name);
      if (slot && isLdImm64) refs.set(at, { kind: 'data', map: '.kconfig', offset: slot.offset });
      else refs.set(at, { kind: 'extern', name: sym.name, symbol: sym });
      continue;
    }
    const target = elf.sections[sym.section];
    if (!target) throw new ObjectError(`${where}: symbol ${sym.name} is in missing section ${sym.section}`);
    if (target.flags & SHF_EXECINSTR) {
      const imm = v.getInt32(r.offset + 4, true);
      if (isCall) {
        refs.set(at, { kind: 'call', section: target.index, insn: sym.value / 8 + imm + 1 });
      } else if (isLdImm64) {
        if ((sym.value + imm) % 8 !== 0)
          throw new ObjectError(`${where}: function pointer into the middle of an instruction`);
        refs.set(at, { kind: 'func', section: target.index, insn: (sym.value + imm) / 8 });
      } else {
        throw new ObjectError(`${where}: code reference from an instruction that is neither a call nor a 64-bit load`);
      }
      continue;
    }
    if (!isLdImm64)
      throw new ObjectError(
        `${where}: reference to ${sym.name || target.name} from an instruction that is not a 64-bit load`,
      );
    const inSection = mapBySection.get(target.index) ?? [];
    if (target.name === '.maps' || target.name === 'maps') {
      const m = findMapAt(elf, target.index, sym, inSection);
      if (!m) throw new ObjectError(`${where}: no map at ${sym.name || `offset ${sym.value}`} of ${target.name}`);
      refs.set(at, { kind: 'map', map: m.name });
    } else if (inSection.length === 1 && inSection[0]!.data) {
      const offset = sym.type === SymbolType.SECTION ? 0 : sym.value;
      refs.set(at, { kind: 'data', map: inSection[0]!.name, offset });
    } else {
      throw new ObjectError(
        `${where}: reference to ${sym.name || target.name} in section ${target.name}, which is neither a map nor global data`,
      );
    }
  }
  return refs;
}

function findMapAt(
  elf: ElfFile,
  section: number,
  sym: ElfSymbol,
  maps: readonly ObjectMapSpec[],
): ObjectMapSpec | undefined {
  if (sym.type !== SymbolType.SECTION) return maps.find((m) => m.name === sym.name);
  // A section-relative reference: find the symbol defined at that offset.
  const named = elf.symbols.find(
    (s) => s.section === section && s.value === sym.value && s.type !== SymbolType.SECTION && s.name,
  );
  return named ? maps.find((m) => m.name === named.name) : undefined;
}

/** Parses `.BTF` and fixes DATASEC sizes and variable offsets the way libbpf does before loading it. */
function parseBtf(elf: ElfFile): {
  btf: Btf | undefined;
  kconfig: { slots: KconfigSlot[]; size: number; datasecId: number } | undefined;
  externs: ObjectExtern[];
} {
  const externs: ObjectExtern[] = [];
  const sec = elf.section('.BTF');
  if (!sec) return { btf: undefined, kconfig: undefined, externs };
  const bytes = sec.data.slice();
  let btf: Btf;
  try {
    btf = Btf.parse(bytes);
  } catch (e) {
    throw new ObjectError(`the object's .BTF is malformed: ${(e as Error).message}`);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let changed = false;
  let kconfig: { slots: KconfigSlot[]; size: number; datasecId: number } | undefined;
  for (let id = 1; id <= btf.maxTypeId; id++) {
    if (btf.kindNameOf(id) !== 'datasec') continue;
    const ds = btf.typeOfKind(id, 'datasec');
    if (ds.name === '.kconfig') {
      // Extern config values: laid out as libbpf does, and made ordinary allocated globals.
      const vars = ds.vars.map((dv) => {
        const name = btf.nameOf(dv.type);
        const sym = elf.symbols.find((x) => x.name === name && x.section === 0);
        return { name, varId: dv.type, weak: sym?.bind === 2 };
      });
      const layout = layoutKconfig(btf, vars);
      const p = btf.recordOffset(id);
      v.setUint32(p + 8, layout.size, true);
      layout.slots.forEach((slot, i) => {
        const q = p + 12 + i * 12;
        v.setUint32(q, slot.varId, true);
        v.setUint32(q + 4, slot.offset, true);
        v.setUint32(q + 8, slot.size, true);
        v.setUint32(btf.recordOffset(slot.varId) + 12, 1, true); // BTF_VAR_GLOBAL_ALLOCATED
      });
      kconfig = { ...layout, datasecId: id };
      changed = true;
      continue;
    }
    if (ds.name === '.ksyms') {
      sanitizeKsyms(btf, v, id, elf, externs);
      changed = true;
      continue;
    }
    const section = elf.section(ds.name);
    if (!section) continue;
    const p = btf.recordOffset(id);
    if (v.getUint32(p + 8, true) !== section.size) {
      v.setUint32(p + 8, section.size, true);
      changed = true;
    }
    const vars: [number, number, number][] = [];
    ds.vars.forEach((dv, i) => {
      const vt = btf.type(dv.type);
      const sym = elf.symbols.find(
        (s) => s.section === section.index && s.name === vt.name && s.type === SymbolType.OBJECT,
      );
      vars.push([dv.type, sym ? sym.value : dv.offset, dv.size]);
      void i;
    });
    vars.sort((a, b) => a[1] - b[1]);
    vars.forEach(([type, offset, size], i) => {
      const q = p + 12 + i * 12;
      if (v.getUint32(q, true) !== type || v.getUint32(q + 4, true) !== offset) changed = true;
      v.setUint32(q, type, true);
      v.setUint32(q + 4, offset, true);
      v.setUint32(q + 8, size, true);
    });
  }
  return { btf: changed ? Btf.parse(bytes) : btf, kconfig, externs };
}

/**
 * Records the `.ksyms` externs, then rewrites them in place so the kernel accepts the BTF, as
 * libbpf does: extern VARs become allocated `int`s, extern FUNCs static with named parameters,
 * and the DATASEC lists only VARs, 4 bytes each.
 */
function sanitizeKsyms(btf: Btf, v: DataView, id: number, elf: ElfFile, externs: ObjectExtern[]): void {
  const ds = btf.typeOfKind(id, 'datasec');
  let intId = 0;
  for (let i = 1; i <= btf.maxTypeId && !intId; i++) {
    if (btf.kindNameOf(i) === 'int' && btf.typeOfKind(i, 'int').size === 4) intId = i;
  }
  // FUNC entries must become VARs of at most 4 bytes: an extern VAR (an int once rewritten), or any small VAR.
  let anyVar = ds.vars.find((dv) => btf.kindNameOf(dv.type) === 'var')?.type ?? 0;
  for (let i = 1; i <= btf.maxTypeId && !anyVar; i++) {
    if (btf.kindNameOf(i) === 'var' && sizeOf(btf, btf.typeOfKind(i, 'var').type) <= 4) anyVar = i;
  }
  if (!intId || !anyVar)
    throw new ObjectError('the object BTF has no 4-byte int or no variable to stand in for its __ksym externs');
  const p = btf.recordOffset(id);
  v.setUint32(p + 8, 4 * ds.vars.length, true);
  ds.vars.forEach((dv, i) => {
    const t = btf.type(dv.type);
    const sym = elf.symbols.find((s) => s.name === t.name && s.section === 0);
    const weak = sym?.bind === 2;
    const q = p + 12 + i * 12;
    const r = btf.recordOffset(dv.type);
    if (t.kind === 'func') {
      externs.push({ name: t.name, kind: 'kfunc', typeId: t.id, weak });
      v.setUint32(r + 4, v.getUint32(r + 4, true) & ~0xffff, true); // linkage static
      const proto = btf.type(t.type);
      if (proto.kind === 'func_proto') {
        const pp = btf.recordOffset(proto.id);
        proto.params.forEach((param, k) => {
          if (!param.nameOff) v.setUint32(pp + 12 + k * 8, t.nameOff, true);
        });
      }
      v.setUint32(q, anyVar, true);
    } else if (t.kind === 'var') {
      const typed = btf.kindNameOf(resolveType(btf, t.type)) !== 'void';
      externs.push({ name: t.name, kind: typed ? 'var' : 'symbol', typeId: t.id, weak });
      v.setUint32(r + 8, intId, true);
      v.setUint32(r + 12, 1, true); // BTF_VAR_GLOBAL_ALLOCATED
      v.setUint32(q, dv.type, true);
    } else {
      throw new ObjectError(`.ksyms lists a ${t.kind}, not a function or a variable`);
    }
    v.setUint32(q + 4, 4 * i, true);
    v.setUint32(q + 8, 4, true);
  });
}
