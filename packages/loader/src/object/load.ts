import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { mountBpffs } from '../fs/mounts.js';
import { kconfigBytes, readKernelConfig } from './kconfig.js';
import { Btf } from 'btf-parser';
import { BtfHandle } from '../btf/handle.js';
import { applyCoreRelocations, type CoreTargets } from '../core/relocate.js';
import { BpfMap } from '../map/map.js';
import { Program } from '../prog/program.js';
import { defaultBackend, type SyscallBackend } from '../sys/backend.js';
import { MapType } from '../sys/generated/constants.js';
import { functionBtfId, kernelBtf, tracepointBtfId } from '../link/targets.js';
import type { ObjectMapSpec } from './maps.js';
import { btfCodec, type BtfValue } from './codec.js';
import type { Attachment } from '../link/link.js';
import { attachBySection, autoAttachable, type AttachBySectionOptions } from './attach.js';
import { linkProgram, type LinkedObjectProgram } from './link-program.js';
import { ObjectError, parseObject, type ObjectProgramSpec, type ObjectSpec } from './parse.js';

/** A value for a global variable, set before load (like a libbpf skeleton's rodata fields). */
export type GlobalValue = BtfValue;

/** Options for {@link loadObject}. */
export interface LoadObjectOptions {
  /** Syscall backend (default: the process-wide koffi backend). */
  readonly backend?: SyscallBackend;
  /** Initial values of global variables (`const volatile` in .rodata, .data, .bss) by name. */
  readonly globals?: Readonly<Record<string, GlobalValue>>;
  /** Load only these programs (by function name); default all. */
  readonly programs?: readonly string[];
  /** Target BTF for CO-RE (default: the running kernel's vmlinux BTF). */
  readonly coreTargets?: CoreTargets;
  /** Verifier log level for the retry after a failed load. */
  readonly logLevel?: 1 | 2;
  /** Kernel config for `__kconfig` CONFIG_* externs (default: /proc/config.gz or /boot/config-$(uname -r)). */
  readonly kernelConfig?: ReadonlyMap<string, string>;
  /** Directory for maps with `__uint(pinning, LIBBPF_PIN_BY_NAME)` (default: /sys/fs/bpf, mounted if needed). */
  readonly pinPath?: string;
}

/** A global variable of the object: where it lives and how big it is. */
export interface GlobalVariable {
  readonly name: string;
  /** The data map (section) holding it. */
  readonly section: string;
  readonly offset: number;
  readonly size: number;
  /** Object BTF type id of the variable's type. */
  readonly typeId: number;
}

/** The global variables of an object, from its BTF DATASECs. */
export function globalVariables(spec: ObjectSpec): GlobalVariable[] {
  const out: GlobalVariable[] = [];
  const btf = spec.btf;
  if (!btf) return out;
  for (const m of spec.maps) {
    if (!m.data || !m.data.datasecId) continue;
    const ds = btf.typeOfKind(m.data.datasecId, 'datasec');
    for (const v of ds.vars) {
      const t = btf.type(v.type);
      if (t.kind !== 'var') continue;
      out.push({ name: t.name, section: m.name, offset: v.offset, size: v.size, typeId: t.type });
    }
  }
  return out;
}

function encodeGlobal(g: GlobalVariable, value: GlobalValue, btf: Btf | undefined): Uint8Array {
  if (btf && !(value instanceof Uint8Array) && typeof value === 'object') {
    const out = new Uint8Array(g.size);
    btfCodec(btf, g.typeId).encode(value, out);
    return out;
  }
  if (typeof value === 'string' && btf) {
    const out = new Uint8Array(g.size);
    btfCodec(btf, g.typeId).encode(value, out);
    return out;
  }
  if (
    typeof value !== 'number' &&
    typeof value !== 'bigint' &&
    typeof value !== 'boolean' &&
    !(value instanceof Uint8Array)
  ) {
    throw new ObjectError(`global "${g.name}": cannot encode ${typeof value}`);
  }
  if (value instanceof Uint8Array) {
    if (value.length !== g.size)
      throw new ObjectError(`global "${g.name}" is ${g.size} bytes; the value given has ${value.length}`);
    return value;
  }
  const out = new Uint8Array(8);
  const v = new DataView(out.buffer);
  const n = typeof value === 'boolean' ? BigInt(value ? 1 : 0) : BigInt(value);
  if (![1, 2, 4, 8].includes(g.size))
    throw new ObjectError(`global "${g.name}" is ${g.size} bytes: give its value as a Uint8Array`);
  const bits = BigInt(g.size * 8);
  if (n >= 1n << bits || n < -(1n << (bits - 1n)))
    throw new ObjectError(`global "${g.name}" (${g.size} bytes) cannot hold ${n}`);
  v.setBigUint64(0, BigInt.asUintN(64, n), true);
  return out.slice(0, g.size);
}

/**
 * A loaded BPF object: its maps and programs, by name. Close it to release them all (links
 * made with {@link BpfObject.attach} are closed too).
 */
export class BpfObject {
  /** Maps by their name in the object (`counts`, `.rodata`, `.bss`, ...). */
  readonly maps: Readonly<Record<string, BpfMap>>;
  /** Programs by function name. */
  readonly programs: Readonly<Record<string, Program>>;
  private readonly owned: { close(): void }[] = [];

  /** @internal */
  constructor(
    /** The parsed object. */
    readonly spec: ObjectSpec,
    maps: Record<string, BpfMap>,
    programs: Record<string, Program>,
    private readonly btfHandle: BtfHandle | undefined,
  ) {
    this.maps = maps;
    this.programs = programs;
  }

  /** The object's program specs, by function name. */
  programSpec(name: string): ObjectProgramSpec {
    const p = this.spec.programs.find((x) => x.name === name);
    if (!p)
      throw new ObjectError(
        `the object has no program "${name}" (it has ${this.spec.programs.map((x) => x.name).join(', ')})`,
      );
    return p;
  }

  /** The object's global variables (section, offset, size), for reading and writing data maps. */
  globals(): GlobalVariable[] {
    return globalVariables(this.spec);
  }

  /**
   * Attaches a program the way its section says (see {@link attachBySection}). The link is
   * closed with the object, or earlier by closing it yourself.
   */
  attach(name: string, opts: AttachBySectionOptions = {}): Attachment {
    const prog = this.programs[name];
    const spec = this.programSpec(name);
    if (!prog) throw new ObjectError(`program "${name}" was not loaded (see the programs option of loadObject)`);
    return this.own(attachBySection(prog, spec, opts));
  }

  /**
   * Attaches every loaded program whose section names its target (kprobe/, tracepoint/, raw_tp/,
   * tp_btf/, fentry/, ...), like a libbpf skeleton's attach(); with `interface`, xdp and tc/tcx
   * programs too. If one fails, those already attached are detached and the error is thrown.
   */
  attachAll(opts: AttachBySectionOptions = {}): Attachment[] {
    const links: Attachment[] = [];
    try {
      for (const name of Object.keys(this.programs)) {
        const spec = this.programSpec(name);
        const netdev = spec.def.attach === 'xdp' || spec.def.attach === 'tcx';
        if (autoAttachable(spec) || (netdev && opts.interface !== undefined))
          links.push(attachBySection(this.programs[name]!, spec, opts));
      }
    } catch (e) {
      for (const l of links.reverse()) l.close();
      throw e;
    }
    for (const l of links) this.own(l);
    return links;
  }

  /** Keeps something (a link) to close with the object. */
  own<T extends { close(): void }>(x: T): T {
    this.owned.push(x);
    return x;
  }

  /** Closes links, programs, maps and the object's BTF. */
  close(): void {
    for (const x of this.owned.splice(0).reverse()) x.close();
    for (const p of Object.values(this.programs)) p.close();
    for (const m of Object.values(this.maps)) m.close();
    this.btfHandle?.close();
  }
}

// Map types the kernel creates without key/value BTF (libbpf drops it for them too).
const NO_BTF_MAP_TYPES: ReadonlySet<number> = new Set([
  MapType.PERF_EVENT_ARRAY,
  MapType.CGROUP_ARRAY,
  MapType.STACK_TRACE,
  MapType.ARRAY_OF_MAPS,
  MapType.HASH_OF_MAPS,
  MapType.DEVMAP,
  MapType.DEVMAP_HASH,
  MapType.CPUMAP,
  MapType.XSKMAP,
  MapType.SOCKMAP,
  MapType.SOCKHASH,
  MapType.QUEUE,
  MapType.STACK,
  MapType.RINGBUF,
]);

function createMap(m: ObjectMapSpec, btf: BtfHandle | undefined, backend: SyscallBackend, data?: Uint8Array): BpfMap {
  let inner: BpfMap | undefined;
  if (m.inner) inner = createMap(m.inner, btf, backend);
  try {
    const withBtf =
      btf && (m.keyTypeId || m.valueTypeId) && !NO_BTF_MAP_TYPES.has(m.type)
        ? { fd: btf.fd, keyTypeId: m.keyTypeId, valueTypeId: m.valueTypeId }
        : undefined;
    return BpfMap.create(
      {
        name: m.kernelName,
        type: m.type as never,
        keySize: m.keySize,
        valueSize: m.valueSize,
        maxEntries: m.maxEntries,
        flags: m.flags,
        numaNode: m.numaNode,
        mapExtra: m.mapExtra,
        innerMap: inner,
        btf: withBtf,
        contents: data && (!m.name.startsWith('.bss') || data.some((b) => b !== 0)) ? [[0, data]] : undefined,
        freeze: m.data?.readonly,
      },
      { backend },
    );
  } finally {
    inner?.close();
  }
}

/** slot → `<C source line> (file.c:N)`, from line_info, for verifier error messages. */
function sourceLines(
  spec: ObjectSpec,
  lines: LinkedObjectProgram['lines'],
): ((slot: number) => string | undefined) | undefined {
  const btf = spec.btf;
  if (!btf || lines.length === 0) return undefined;
  const sorted = [...lines].sort((a, b) => a.insn - b.insn);
  return (slot) => {
    let lo = 0;
    let hi = sorted.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]!.insn <= slot) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) return undefined;
    const r = sorted[found]!;
    try {
      const text = btf.str(r.lineOff).trim();
      const file = btf.str(r.fileNameOff).replace(/^.*\//, '');
      return text ? `${text} (${file}:${r.lineCol >>> 10})` : undefined;
    } catch {
      return undefined;
    }
  };
}

/** The BTF of every loaded module (/sys/kernel/btf/<module>), split on vmlinux: CO-RE's second choice. */
function moduleBtfs(vmlinux: Btf): Btf[] {
  let names: string[];
  try {
    names = readdirSync('/sys/kernel/btf').filter((n) => n !== 'vmlinux');
  } catch {
    return [];
  }
  const out: Btf[] = [];
  for (const n of names) {
    try {
      out.push(Btf.parse(readFileSync(`/sys/kernel/btf/${n}`), { base: vmlinux }));
    } catch {
      // a module unloaded meanwhile, or BTF this parser rejects: not a candidate
    }
  }
  return out;
}

let kallsyms: Map<string, bigint> | undefined;

function kernelSymbolAddress(name: string): bigint | undefined {
  if (!kallsyms) {
    kallsyms = new Map();
    for (const line of readFileSync('/proc/kallsyms', 'utf8').split('\n')) {
      const [addr, , sym] = line.split(/\s+/);
      if (sym && !kallsyms.has(sym)) kallsyms.set(sym, BigInt(`0x${addr}`));
    }
  }
  return kallsyms.get(name);
}

/**
 * Fills in a `__ksym` reference: a kfunc call (BPF_PSEUDO_KFUNC_CALL + the kernel FUNC's BTF
 * id), a typed kernel variable (BPF_PSEUDO_BTF_ID + its VAR's id), or an untyped symbol (its
 * address from /proc/kallsyms). vmlinux only; weak ones the kernel lacks read as 0.
 */
function resolveKsym(
  spec: ObjectSpec,
  prog: string,
  name: string,
  insns: Uint8Array,
  at: number,
  btf: () => Btf,
): void {
  const ext = spec.externs.find((e) => e.name === name);
  if (!ext)
    throw new ObjectError(`program ${prog} references "${name}", which the object neither defines nor declares __ksym`);
  const v = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
  const o = at * 8;
  const regs = insns[o + 1]! & 0x0f;
  const setImm64 = (x: bigint) => {
    v.setUint32(o + 4, Number(x & 0xffffffffn), true);
    v.setUint32(o + 12, Number(x >> 32n), true);
  };
  if (ext.kind === 'kfunc') {
    if (insns[o] !== 0x85) throw new ObjectError(`program ${prog}: kfunc ${name} is used other than by a call`);
    const id = btf().idsByName(name, 'func')[0];
    if (id === undefined) {
      throw new ObjectError(
        `program ${prog} calls kfunc ${name}, which this kernel's BTF does not have${ext.weak ? ' (weak kfuncs are not supported)' : ''}`,
      );
    }
    insns[o + 1] = regs | (2 << 4); // BPF_PSEUDO_KFUNC_CALL
    v.setInt16(o + 2, 0, true);
    v.setInt32(o + 4, id, true);
    return;
  }
  if (insns[o] !== 0x18) throw new ObjectError(`program ${prog}: __ksym ${name} is used other than by a 64-bit load`);
  if (ext.kind === 'var') {
    const id = btf().idsByName(name, 'var')[0];
    if (id === undefined) {
      if (!ext.weak)
        throw new ObjectError(`program ${prog} uses kernel variable ${name}, which this kernel's BTF does not have`);
      insns[o + 1] = regs;
      setImm64(0n);
      return;
    }
    insns[o + 1] = regs | (3 << 4); // BPF_PSEUDO_BTF_ID
    v.setInt32(o + 4, id, true);
    v.setInt32(o + 12, 0, true);
    return;
  }
  const addr = kernelSymbolAddress(name);
  if (addr === undefined && !ext.weak)
    throw new ObjectError(`program ${prog} uses kernel symbol ${name}, which /proc/kallsyms does not list`);
  if (addr === 0n) throw new ObjectError(`/proc/kallsyms hides addresses: run as root to resolve ${name}`);
  insns[o + 1] = regs;
  setImm64(addr ?? 0n);
}

/**
 * A map pinned by name (LIBBPF_PIN_BY_NAME): reused from `<pinPath>/<name>` when a compatible
 * one is pinned there, else created and pinned, as libbpf does.
 */
function pinnedMap(m: ObjectMapSpec, btf: BtfHandle | undefined, backend: SyscallBackend, pinPath?: string): BpfMap {
  const dir = pinPath ?? mountBpffs().path;
  const path = join(dir, m.name);
  if (existsSync(path)) {
    const old = BpfMap.fromPinned(path, { backend });
    if (
      old.type !== m.type ||
      old.keySize !== m.keySize ||
      old.valueSize !== m.valueSize ||
      old.maxEntries !== m.maxEntries ||
      old.flags !== m.flags
    ) {
      old.close();
      throw new ObjectError(
        `map "${m.name}" pinned at ${path} does not match the object's definition (type, key/value size, max_entries or flags differ): remove the pin or rename the map`,
      );
    }
    return old;
  }
  const map = createMap(m, btf, backend);
  try {
    map.pin(path);
  } catch (e) {
    map.close();
    throw e;
  }
  return map;
}

function attachBtfIdOf(p: ObjectProgramSpec, btf: () => Btf): number | undefined {
  const d = p.def;
  if (!d.btfTarget) return undefined;
  if (!d.target)
    throw new ObjectError(`program ${p.name}: section "${p.sectionName}" needs a target after "${d.prefix}/"`);
  switch (d.btfTarget) {
    case 'tracepoint':
      return tracepointBtfId(d.target, btf());
    case 'function':
      return functionBtfId(d.target, btf());
    case 'lsm':
      return functionBtfId(`bpf_lsm_${d.target}`, btf());
    case 'iter':
      return functionBtfId(`bpf_iter_${d.target}`, btf());
  }
}

/**
 * Loads a parsed object: creates its maps (global data written and .rodata frozen), applies
 * CO-RE relocations against the kernel's BTF, lays out each program with its subprograms,
 * fills in map references and loads the programs with their func_info and line_info.
 */
export function loadObject(spec: ObjectSpec, opts: LoadObjectOptions = {}): BpfObject {
  const backend = opts.backend ?? defaultBackend();
  const wanted = opts.programs ? new Set(opts.programs) : undefined;
  for (const n of wanted ?? []) {
    if (!spec.programs.some((p) => p.name === n)) throw new ObjectError(`the object has no program "${n}"`);
  }
  // Global variable values.
  const data = new Map<string, Uint8Array>();
  for (const m of spec.maps) if (m.data) data.set(m.name, m.data.bytes.slice());
  const kconfigMap = spec.maps.find((m) => m.name === '.kconfig');
  if (kconfigMap && spec.btf) {
    const ds = spec.btf.typeOfKind(kconfigMap.data!.datasecId, 'datasec');
    const slots = ds.vars.map((dv) => {
      const name = spec.btf!.nameOf(dv.type);
      return {
        name,
        varId: dv.type,
        offset: dv.offset,
        size: dv.size,
        weak: spec.kconfigWeak?.includes(name) ?? false,
      };
    });
    let config: ReadonlyMap<string, string> | undefined;
    data.set(
      '.kconfig',
      kconfigBytes(spec.btf, slots, kconfigMap.valueSize, () => (config ??= opts.kernelConfig ?? readKernelConfig())),
    );
  }
  if (opts.globals) {
    const vars = new Map(globalVariables(spec).map((g) => [g.name, g]));
    for (const [name, value] of Object.entries(opts.globals)) {
      const g = vars.get(name);
      if (!g)
        throw new ObjectError(
          `the object has no global variable "${name}" (it has ${[...vars.keys()].join(', ') || 'none'})`,
        );
      data.get(g.section)!.set(encodeGlobal(g, value, spec.btf), g.offset);
    }
  }
  let vmlinux: Btf | undefined;
  const kbtf = () => (vmlinux ??= kernelBtf());
  const targets: CoreTargets = opts.coreTargets ?? {
    get vmlinux() {
      return kbtf();
    },
    modules: () => moduleBtfs(kbtf()),
  };
  // CO-RE, section by section.
  const code = new Map<number, Uint8Array>();
  for (const [idx, sec] of spec.code) {
    const insns = sec.insns.slice();
    if (sec.coreRelos.length) applyCoreRelocations(spec.btf!, insns, sec.coreRelos, targets, sec.name);
    code.set(idx, insns);
  }
  const programs = spec.programs.filter((p) => !wanted || wanted.has(p.name));
  const linked = programs.map((p) => ({ p, l: linkProgram(spec, p, code) }));

  let btfHandle: BtfHandle | undefined;
  const maps: Record<string, BpfMap> = {};
  const loaded: Record<string, Program> = {};
  try {
    if (spec.btf) btfHandle = BtfHandle.load(spec.btf.bytes, { backend });
    for (const m of spec.maps) {
      maps[m.name] = m.pinning
        ? pinnedMap(m, btfHandle, backend, opts.pinPath)
        : createMap(m, btfHandle, backend, data.get(m.name));
    }
    for (const slot of spec.mapSlots ?? []) {
      const fd = new Uint8Array(4);
      new DataView(fd.buffer).setUint32(0, maps[slot.inner]!.fd, true);
      maps[slot.outer]!.update(slot.index, fd);
    }
    for (const { p, l } of linked) {
      const insns = l.insns;
      const v = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
      for (const r of l.references) {
        if (r.kind === 'extern') {
          resolveKsym(spec, p.name, r.name, insns, r.insn, kbtf);
          continue;
        }
        const map = maps[r.map];
        if (!map) throw new ObjectError(`program ${p.name} references map "${r.map}", which was not created`);
        const o = r.insn * 8;
        const regs = insns[o + 1]! & 0x0f;
        if (r.kind === 'map') {
          insns[o + 1] = regs | (1 << 4);
          v.setInt32(o + 4, map.fd, true);
        } else {
          insns[o + 1] = regs | (2 << 4);
          const off = v.getInt32(o + 4, true) + r.offset;
          v.setInt32(o + 4, map.fd, true);
          v.setInt32(o + 12, off, true);
        }
      }
      loaded[p.name] = Program.load(
        {
          name: p.name.slice(0, 15),
          type: p.def.type,
          expectedAttachType: p.def.attachType,
          attachBtfId: attachBtfIdOf(p, kbtf),
          flags: p.def.flags,
          license: spec.license || 'GPL',
          instructions: insns,
          btf: btfHandle && l.funcInfo ? { fd: btfHandle.fd, funcInfo: l.funcInfo, lineInfo: l.lineInfo } : undefined,
          comments: sourceLines(spec, l.lines),
        },
        { backend, logLevel: opts.logLevel },
      );
    }
  } catch (e) {
    for (const x of Object.values(loaded)) x.close();
    for (const x of Object.values(maps)) x.close();
    btfHandle?.close();
    throw e;
  }
  return new BpfObject(spec, maps, loaded, btfHandle);
}

/** Reads, parses and loads a clang-built BPF object file (`.bpf.o`). */
export function loadObjectFile(path: string, opts: LoadObjectOptions = {}): BpfObject {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ObjectError(`cannot read ${path}: ${(e as Error).message}`);
  }
  return loadObject(parseObject(bytes, basename(path)), opts);
}
