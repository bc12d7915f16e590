import { resolveType, sizeOf, type Btf, type BtfType } from 'btf-parser';
import { ElfError } from '../elf/elf.js';
import { MapFlag } from '../map/spec.js';
import { MapType } from '../sys/generated/constants.js';

/** A map definition in an object (BTF `.maps`, legacy `maps`, or a global-data section). */
export interface ObjectMapSpec {
  /** Name in the object (the variable, or the section for global data). */
  readonly name: string;
  /** Name given to the kernel (15 chars; libbpf's `<object>.<section>` for global data). */
  readonly kernelName: string;
  /** {@link MapType}. */
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  /** map_extra. */
  readonly mapExtra?: bigint;
  /** NUMA node, when `numa_node` was given. */
  readonly numaNode?: number;
  /** 1 = LIBBPF_PIN_BY_NAME. */
  readonly pinning: number;
  /** Object BTF ids of key and value (0 when none). */
  readonly keyTypeId: number;
  readonly valueTypeId: number;
  /** Inner map template of a map-in-map. */
  readonly inner?: ObjectMapSpec;
  /** Global data: the section it holds, its initial bytes, and whether it is read-only (.rodata). */
  readonly data?: {
    readonly section: string;
    readonly bytes: Uint8Array;
    readonly readonly: boolean;
    readonly datasecId: number;
  };
}

/** A `.maps` definition BTF cannot describe. */
export class MapDefinitionError extends ElfError {}

function typeOf(btf: Btf, id: number): BtfType {
  return btf.type(resolveType(btf, id));
}

/** `int (*name)[N]` → N. */
function uintField(btf: Btf, map: string, field: string, id: number): number {
  const p = typeOf(btf, id);
  if (p.kind !== 'ptr') throw new MapDefinitionError(`map "${map}": ${field} is not __uint(${field}, N)`);
  const a = typeOf(btf, p.type);
  if (a.kind !== 'array') throw new MapDefinitionError(`map "${map}": ${field} is not __uint(${field}, N)`);
  return a.nelems;
}

/** Parses one BTF-defined map (a `.maps` variable of an anonymous struct type). */
export function parseBtfMap(btf: Btf, name: string, structId: number, kernelName = name, inner = false): ObjectMapSpec {
  const t = typeOf(btf, structId);
  if (t.kind !== 'struct')
    throw new MapDefinitionError(`map "${name}" in .maps is not a struct: define it with __uint/__type`);
  let type = -1;
  let keySize = 0;
  let valueSize = 0;
  let maxEntries = 0;
  let flags = 0;
  let pinning = 0;
  let keyTypeId = 0;
  let valueTypeId = 0;
  let numaNode: number | undefined;
  let mapExtra: bigint | undefined;
  let innerSpec: ObjectMapSpec | undefined;
  for (const m of t.members) {
    switch (m.name) {
      case 'type':
        type = uintField(btf, name, m.name, m.type);
        break;
      case 'max_entries':
        maxEntries = uintField(btf, name, m.name, m.type);
        break;
      case 'map_flags':
        flags = uintField(btf, name, m.name, m.type);
        break;
      case 'numa_node':
        numaNode = uintField(btf, name, m.name, m.type);
        break;
      case 'map_extra':
        mapExtra = BigInt(uintField(btf, name, m.name, m.type));
        break;
      case 'pinning':
        pinning = uintField(btf, name, m.name, m.type);
        if (pinning > 1)
          throw new MapDefinitionError(
            `map "${name}": pinning ${pinning} is not supported (use LIBBPF_PIN_BY_NAME or none)`,
          );
        break;
      case 'key_size':
        keySize = uintField(btf, name, m.name, m.type);
        break;
      case 'value_size':
        valueSize = uintField(btf, name, m.name, m.type);
        break;
      case 'key':
      case 'value': {
        const p = typeOf(btf, m.type);
        if (p.kind !== 'ptr') throw new MapDefinitionError(`map "${name}": ${m.name} is not __type(${m.name}, T)`);
        const size = sizeOf(btf, p.type);
        if (m.name === 'key') {
          keyTypeId = p.type;
          keySize = size;
        } else {
          valueTypeId = p.type;
          valueSize = size;
        }
        break;
      }
      case 'values': {
        const a = typeOf(btf, m.type);
        if (a.kind !== 'array') throw new MapDefinitionError(`map "${name}": values is not __array(values, ...)`);
        const p = typeOf(btf, a.type);
        if (p.kind !== 'ptr') throw new MapDefinitionError(`map "${name}": values is not an array of pointers`);
        if (inner) throw new MapDefinitionError(`map "${name}": an inner map cannot hold maps itself`);
        const pointee = typeOf(btf, p.type);
        if (pointee.kind === 'struct') {
          innerSpec = parseBtfMap(btf, `${name}.inner`, pointee.id, `${kernelName}.inner`.slice(0, 15), true);
        }
        valueSize = 4;
        break;
      }
      default:
        throw new MapDefinitionError(`map "${name}": unknown field "${m.name}" in its definition`);
    }
  }
  if (type < 0) throw new MapDefinitionError(`map "${name}" has no type: add __uint(type, BPF_MAP_TYPE_...)`);
  if ((type === MapType.ARRAY_OF_MAPS || type === MapType.HASH_OF_MAPS) && !innerSpec) {
    throw new MapDefinitionError(`map "${name}" holds maps but has no __array(values, struct inner_def)`);
  }
  return {
    name,
    kernelName,
    type,
    keySize,
    valueSize,
    maxEntries,
    flags,
    numaNode,
    mapExtra,
    pinning,
    keyTypeId,
    valueTypeId,
    inner: innerSpec,
  };
}

/** Parses a legacy `SEC("maps")` definition (`struct bpf_map_def`: five u32, possibly more). */
export function parseLegacyMap(name: string, bytes: Uint8Array): ObjectMapSpec {
  if (bytes.length < 20)
    throw new MapDefinitionError(`legacy map "${name}" is ${bytes.length} bytes; struct bpf_map_def has at least 20`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u = (i: number) => v.getUint32(i * 4, true);
  return {
    name,
    kernelName: name.slice(0, 15),
    type: u(0),
    keySize: u(1),
    valueSize: u(2),
    maxEntries: u(3),
    flags: u(4),
    pinning: 0,
    keyTypeId: 0,
    valueTypeId: 0,
  };
}

/** True for the sections libbpf turns into global-data maps. */
export function isDataSection(name: string): boolean {
  return /^\.(rodata|data|bss)(\.|$)/.test(name);
}

/** libbpf's kernel name for a global-data map: `<object prefix><section>`, 15 chars, sanitized. */
export function dataMapName(objectName: string, section: string): string {
  const sfx = Math.max(7, section.length);
  const pfx = sfx >= 16 || section.indexOf('.', 1) >= 0 ? 0 : Math.min(16 - sfx - 1, objectName.length);
  return (objectName.slice(0, pfx) + section.slice(0, sfx)).slice(0, 15).replace(/[^A-Za-z0-9_.]/g, '_');
}

/** The global-data map of a section. */
export function dataMap(objectName: string, section: string, bytes: Uint8Array, datasecId: number): ObjectMapSpec {
  const ro = section.startsWith('.rodata');
  return {
    name: section,
    kernelName: dataMapName(objectName, section),
    type: MapType.ARRAY,
    keySize: 4,
    valueSize: bytes.length,
    maxEntries: 1,
    flags: (ro ? MapFlag.RDONLY_PROG : 0) | MapFlag.MMAPABLE,
    pinning: 0,
    keyTypeId: 0,
    valueTypeId: datasecId,
    data: { section, bytes, readonly: ro, datasecId },
  };
}
