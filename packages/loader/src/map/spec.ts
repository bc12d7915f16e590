import { MapType } from '../sys/generated/constants.js';

/** Map creation flags (`BPF_F_*` for BPF_MAP_CREATE). */
export const MapFlag = {
  NO_PREALLOC: 1 << 0,
  NO_COMMON_LRU: 1 << 1,
  NUMA_NODE: 1 << 2,
  RDONLY: 1 << 3,
  WRONLY: 1 << 4,
  STACK_BUILD_ID: 1 << 5,
  ZERO_SEED: 1 << 6,
  RDONLY_PROG: 1 << 7,
  WRONLY_PROG: 1 << 8,
  CLONE: 1 << 9,
  MMAPABLE: 1 << 10,
  PRESERVE_ELEMS: 1 << 11,
  INNER_MAP: 1 << 12,
} as const;

/** Update flags for BPF_MAP_UPDATE_ELEM. */
export const UpdateFlag = {
  /** Create or update. */
  ANY: 0,
  /** Create only; fails with EEXIST if the key exists. */
  NOEXIST: 1,
  /** Update only; fails with ENOENT if missing. For queue/stack push: evict the oldest when full. */
  EXIST: 2,
  /** Take the element's spin lock. */
  F_LOCK: 4,
} as const;

/** BTF type information attached to a map. */
export interface MapBtf {
  /** fd of a loaded BTF object. */
  readonly fd: number;
  /** Type id of the key. */
  readonly keyTypeId: number;
  /** Type id of the value. */
  readonly valueTypeId: number;
}

/** A description of a map (data only; see {@link BpfMap.create}). */
export interface MapSpec {
  /** Name shown by bpftool (truncated to 15 chars; [A-Za-z0-9_.] only). */
  readonly name?: string;
  /** One of {@link MapType}. */
  readonly type: MapType;
  /** Key size in bytes (0 for queue, stack and ring buffer). */
  readonly keySize: number;
  /** Value size in bytes (0 for ring buffer). */
  readonly valueSize: number;
  /** Entries; for a ring buffer, its size in bytes (a power-of-two multiple of the page size). */
  readonly maxEntries: number;
  /** {@link MapFlag} bits. */
  readonly flags?: number;
  /** For map-in-map types: a template inner map (its fd is used at creation). */
  readonly innerMap?: { readonly fd: number };
  /** Optional BTF for key and value. */
  readonly btf?: MapBtf;
  /** NUMA node (sets the NUMA_NODE flag). */
  readonly numaNode?: number;
  /** map_extra (bloom filter hashes, arena address). */
  readonly mapExtra?: bigint;
  /** Initial contents: written after creation (before any freeze). */
  readonly contents?: ReadonlyArray<readonly [key: Uint8Array | number, value: Uint8Array]>;
  /** Freeze the map after writing `contents` (read-only config for generated programs). */
  readonly freeze?: boolean;
}

/** Map types whose values are per CPU (lookups return one value per possible CPU). */
export const PER_CPU_MAP_TYPES: ReadonlySet<number> = new Set([
  MapType.PERCPU_HASH,
  MapType.PERCPU_ARRAY,
  MapType.LRU_PERCPU_HASH,
  MapType.PERCPU_CGROUP_STORAGE,
]);

/** Map types without keys, accessed by push/pop/peek. */
export const KEYLESS_MAP_TYPES: ReadonlySet<number> = new Set([MapType.QUEUE, MapType.STACK]);

/** Checks a map name against the kernel's rules; returns an error message or undefined. */
export function checkMapName(name: string): string | undefined {
  if (name.length > 15) return `map name "${name}" is longer than 15 characters`;
  if (!/^[A-Za-z0-9_.]*$/.test(name)) return `map name "${name}" may only contain letters, digits, '_' and '.'`;
  return undefined;
}
