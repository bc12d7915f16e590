import { errorFromErrno, InvalidArgumentError } from '../errors.js';
import { FdHandle } from '../fd.js';
import { MapBatchAttr, MapCreateAttr, MapElemAttr, ObjAttr, GetIdAttr } from '../sys/attr.js';
import { defaultBackend, type SyscallBackend, type NativeMemory } from '../sys/backend.js';
import { bpfFor, nativeString, type Bpf } from '../sys/bpf.js';
import { possibleCpus } from '../sys/cpus.js';
import { Errno } from '../sys/errno.js';
import { BpfCommand, MapType } from '../sys/generated/constants.js';
import { getInfoByFd, type ObjectInfo } from '../info.js';
import { MapInfo } from '../sys/attr.js';
import { readNumber, readString, readBigInt } from '../sys/layout.js';
import { checkMapName, KEYLESS_MAP_TYPES, MapFlag, PER_CPU_MAP_TYPES, UpdateFlag, type MapSpec } from './spec.js';

const ELEM_MAP_FD = MapElemAttr.fields.mapFd.offset;
const ELEM_KEY = MapElemAttr.fields.key.offset;
const ELEM_VALUE = MapElemAttr.fields.value.offset;
const ELEM_FLAGS = MapElemAttr.fields.flags.offset;

/** A key: raw bytes, or an integer encoded little-endian in key_size bytes. */
export type MapKey = Uint8Array | number | bigint;

/** What the kernel reports about a map (BPF_OBJ_GET_INFO_BY_FD). */
export interface MapInfoResult extends ObjectInfo {
  /** {@link MapType} value. */
  readonly type: number;
  /** Key size in bytes. */
  readonly keySize: number;
  /** Value size in bytes. */
  readonly valueSize: number;
  /** max_entries. */
  readonly maxEntries: number;
  /** Creation flags. */
  readonly flags: number;
  /** Name (up to 15 chars). */
  readonly name: string;
  /** BTF object id, 0 if none. */
  readonly btfId: number;
  /** map_extra. */
  readonly mapExtra: bigint;
}

/** Options for opening or creating maps. */
export interface MapOpenOptions {
  /** Syscall backend (default: the process-wide koffi backend). */
  readonly backend?: SyscallBackend;
}

const typeNames = new Map<number, string>(Object.entries(MapType).map(([k, v]) => [v, k.toLowerCase()]));

/** Lower-case name of a map type (`percpu_array`). */
export function mapTypeName(type: number): string {
  return typeNames.get(type) ?? `map type ${type}`;
}

/**
 * A live BPF map: owns its fd (close() or `using`). Keys and values are bytes; integer keys
 * are accepted for convenience. Values are returned as fresh copies.
 */
export class BpfMap extends FdHandle {
  /** {@link MapType} value. */
  readonly type: number;
  /** Map name. */
  readonly name: string;
  /** Key size in bytes. */
  readonly keySize: number;
  /** Value size in bytes (per CPU for per-CPU maps). */
  readonly valueSize: number;
  /** max_entries. */
  readonly maxEntries: number;
  /** Creation flags. */
  readonly flags: number;
  /** Whether values are per CPU. */
  readonly perCpu: boolean;
  /** Bytes of one lookup result (valueSize, or roundup(valueSize, 8) × possible CPUs). */
  readonly valueBufferSize: number;
  private readonly sys: Bpf;
  private readonly keyBuf: NativeMemory;
  private readonly nextKeyBuf: NativeMemory;
  private readonly valueBuf: NativeMemory;

  private constructor(fd: number, backend: SyscallBackend, info: Omit<MapInfoResult, 'id' | 'btfId' | 'mapExtra'>) {
    super(fd, backend);
    this.sys = bpfFor(backend);
    this.type = info.type;
    this.name = info.name;
    this.keySize = info.keySize;
    this.valueSize = info.valueSize;
    this.maxEntries = info.maxEntries;
    this.flags = info.flags;
    this.perCpu = PER_CPU_MAP_TYPES.has(info.type);
    this.valueBufferSize = this.perCpu ? Math.ceil(info.valueSize / 8) * 8 * possibleCpus() : info.valueSize;
    this.keyBuf = backend.alloc(Math.max(8, info.keySize));
    this.nextKeyBuf = backend.alloc(Math.max(8, info.keySize));
    this.valueBuf = backend.alloc(Math.max(8, this.valueBufferSize));
  }

  /** Creates a map from a spec (writes `contents`, then freezes if asked). */
  static create(spec: MapSpec, opts: MapOpenOptions = {}): BpfMap {
    const backend = opts.backend ?? defaultBackend();
    const name = spec.name ?? '';
    const bad = checkMapName(name);
    if (bad) throw new InvalidArgumentError(Errno.EINVAL, `create map "${name}"`, bad);
    let flags = spec.flags ?? 0;
    if (spec.numaNode !== undefined) flags |= MapFlag.NUMA_NODE;
    const what = `BPF_MAP_CREATE ${mapTypeName(spec.type)} "${name}"`;
    const fd = bpfFor(backend).call(
      BpfCommand.MAP_CREATE,
      MapCreateAttr,
      {
        mapType: spec.type,
        keySize: spec.keySize,
        valueSize: spec.valueSize,
        maxEntries: spec.maxEntries,
        mapFlags: flags,
        innerMapFd: spec.innerMap?.fd,
        numaNode: spec.numaNode,
        mapName: name,
        btfFd: spec.btf?.fd,
        btfKeyTypeId: spec.btf?.keyTypeId,
        btfValueTypeId: spec.btf?.valueTypeId,
        mapExtra: spec.mapExtra,
      },
      {
        operation: what,
        hints: {
          EINVAL: `the kernel rejected key_size=${spec.keySize} value_size=${spec.valueSize} max_entries=${spec.maxEntries} flags=0x${flags.toString(16)} for this map type${spec.type === MapType.RINGBUF ? ' (a ring buffer needs key/value size 0 and a power-of-two multiple of the page size)' : ''}`,
          E2BIG: `key_size=${spec.keySize} or value_size=${spec.valueSize} exceeds what this map type allows`,
          ENOMEM: `max_entries=${spec.maxEntries} is too large to allocate`,
        },
      },
    );
    const map = new BpfMap(fd, backend, {
      type: spec.type,
      name: name.slice(0, 15),
      keySize: spec.keySize,
      valueSize: spec.valueSize,
      maxEntries: spec.maxEntries,
      flags,
    });
    try {
      for (const [k, v] of spec.contents ?? []) map.update(k, v);
      if (spec.freeze) map.freeze();
    } catch (e) {
      map.close();
      throw e;
    }
    return map;
  }

  /** Wraps an existing map fd (takes ownership), reading its shape from the kernel. */
  static fromFd(fd: number, opts: MapOpenOptions = {}): BpfMap {
    const backend = opts.backend ?? defaultBackend();
    try {
      const info = readMapInfo(backend, fd);
      return new BpfMap(fd, backend, info);
    } catch (e) {
      backend.close(fd);
      throw e;
    }
  }

  /** Opens a map by its system-wide id. */
  static fromId(id: number, opts: MapOpenOptions = {}): BpfMap {
    const backend = opts.backend ?? defaultBackend();
    const fd = bpfFor(backend).call(
      BpfCommand.MAP_GET_FD_BY_ID,
      GetIdAttr,
      { id },
      {
        operation: `open map id ${id}`,
        hints: { ENOENT: `no map with id ${id}` },
      },
    );
    return BpfMap.fromFd(fd, { backend });
  }

  /** Opens a map pinned in bpffs. */
  static fromPinned(path: string, opts: MapOpenOptions = {}): BpfMap {
    const backend = opts.backend ?? defaultBackend();
    return BpfMap.fromFd(openPinned(backend, path, 'map'), { backend });
  }

  protected describe(): string {
    return `map "${this.name}"`;
  }

  protected override beforeClose(): void {
    this.keyBuf.free();
    this.nextKeyBuf.free();
    this.valueBuf.free();
  }

  private putKey(buf: NativeMemory, key: MapKey): void {
    if (key instanceof Uint8Array) {
      if (key.length !== this.keySize) {
        throw new InvalidArgumentError(
          Errno.EINVAL,
          `${this.describe()} key`,
          `key is ${key.length} bytes, map key_size is ${this.keySize}`,
        );
      }
      buf.bytes.set(key);
      return;
    }
    const v = buf.view;
    switch (this.keySize) {
      case 1:
        v.setUint8(0, Number(key));
        return;
      case 2:
        v.setUint16(0, Number(key), true);
        return;
      case 4:
        v.setUint32(0, Number(key) >>> 0, true);
        return;
      case 8:
        v.setBigUint64(0, BigInt.asUintN(64, BigInt(key)), true);
        return;
      default:
        throw new InvalidArgumentError(
          Errno.EINVAL,
          `${this.describe()} key`,
          `integer keys need key_size 1, 2, 4 or 8 (it is ${this.keySize})`,
        );
    }
  }

  private putValue(value: Uint8Array): void {
    if (value.length !== this.valueSize) {
      throw new InvalidArgumentError(
        Errno.EINVAL,
        `${this.describe()} value`,
        `value is ${value.length} bytes, map value_size is ${this.valueSize}`,
      );
    }
    this.valueBuf.bytes.set(value);
  }

  /** The hot path of every element command: writes the 32-byte attr directly (no field loop). */
  private elem(cmd: number, key: MapKey | null, withValue: boolean, flags: number): number {
    if (key !== null) this.putKey(this.keyBuf, key);
    const attr = this.sys.attr;
    const v = attr.view;
    const keyAddr = key === null ? 0 : this.keyBuf.address;
    const valueAddr = withValue ? this.valueBuf.address : 0;
    v.setUint32(ELEM_MAP_FD, this.fd, true);
    v.setUint32(ELEM_MAP_FD + 4, 0, true);
    v.setUint32(ELEM_KEY, keyAddr % 0x1_0000_0000, true);
    v.setUint32(ELEM_KEY + 4, Math.floor(keyAddr / 0x1_0000_0000), true);
    v.setUint32(ELEM_VALUE, valueAddr % 0x1_0000_0000, true);
    v.setUint32(ELEM_VALUE + 4, Math.floor(valueAddr / 0x1_0000_0000), true);
    v.setUint32(ELEM_FLAGS, flags, true);
    v.setUint32(ELEM_FLAGS + 4, 0, true);
    return this.backend.bpf(cmd, attr, MapElemAttr.size);
  }

  /**
   * Looks up `key` and copies the value into `out` (at least valueBufferSize bytes) without
   * allocating; false if absent. For hot loops.
   */
  lookupInto(key: MapKey, out: Uint8Array): boolean {
    const r = this.elem(BpfCommand.MAP_LOOKUP_ELEM, key, true, 0);
    if (r === -Errno.ENOENT) return false;
    if (r < 0) this.fail(r, 'lookup');
    out.set(this.valueBuf.bytes.subarray(0, this.valueBufferSize));
    return true;
  }

  private fail(r: number, op: string, hints: Record<string, string> = {}): never {
    throw errorFromErrno(r, { operation: `${op} on ${this.describe()}`, hints });
  }

  /** Looks up a key; undefined if absent. For per-CPU maps this is all CPUs' values back to back. */
  lookup(key: MapKey): Uint8Array | undefined {
    const r = this.elem(BpfCommand.MAP_LOOKUP_ELEM, key, true, 0);
    if (r === -Errno.ENOENT) return undefined;
    if (r < 0) this.fail(r, 'lookup');
    return this.valueBuf.bytes.slice(0, this.valueBufferSize);
  }

  /** Looks up a key in a per-CPU map; one value per possible CPU. */
  lookupPerCpu(key: MapKey): Uint8Array[] | undefined {
    const all = this.lookup(key);
    if (!all) return undefined;
    return splitPerCpu(all, this.valueSize);
  }

  /** Sets key → value. `flags` is an {@link UpdateFlag}. */
  update(key: MapKey, value: Uint8Array, flags: number = UpdateFlag.ANY): void {
    if (this.perCpu && value.length === this.valueBufferSize && value.length !== this.valueSize) {
      this.valueBuf.bytes.set(value);
    } else this.putValue(value);
    const r = this.elem(BpfCommand.MAP_UPDATE_ELEM, key, true, flags);
    if (r < 0) {
      this.fail(r, 'update', {
        E2BIG: `the map is full (max_entries ${this.maxEntries})`,
        EEXIST: 'the key exists and NOEXIST was given',
        ENOENT: 'the key does not exist and EXIST was given',
        EPERM: 'the map is frozen or read-only',
        EINVAL: 'invalid key, value or flags for this map type (array maps cannot take keys >= max_entries)',
      });
    }
  }

  /** Sets a per-CPU map's values for every CPU (each valueSize bytes). */
  updatePerCpu(key: MapKey, values: Uint8Array[], flags: number = UpdateFlag.ANY): void {
    const stride = Math.ceil(this.valueSize / 8) * 8;
    const all = new Uint8Array(this.valueBufferSize);
    values.forEach((v, i) => all.set(v.subarray(0, this.valueSize), i * stride));
    this.update(key, all, flags);
  }

  /** Deletes a key; false if it was absent. */
  delete(key: MapKey): boolean {
    const r = this.elem(BpfCommand.MAP_DELETE_ELEM, key, false, 0);
    if (r === -Errno.ENOENT) return false;
    if (r < 0) this.fail(r, 'delete', { EINVAL: 'array map elements cannot be deleted' });
    return true;
  }

  /** The key after `key` (or the first key when undefined); undefined at the end. */
  nextKey(key?: MapKey): Uint8Array | undefined {
    if (key !== undefined) this.putKey(this.keyBuf, key);
    const r = this.sys.raw(BpfCommand.MAP_GET_NEXT_KEY, MapElemAttr, {
      mapFd: this.fd,
      key: key === undefined ? 0 : this.keyBuf.address,
      nextKey: this.nextKeyBuf.address,
    });
    if (r === -Errno.ENOENT) return undefined;
    if (r < 0) this.fail(r, 'next key');
    return this.nextKeyBuf.bytes.slice(0, this.keySize);
  }

  /** Iterates keys (a key deleted meanwhile may restart hash iteration, as in the kernel). */
  *keys(): IterableIterator<Uint8Array> {
    let k = this.nextKey();
    while (k) {
      yield k;
      k = this.nextKey(k);
    }
  }

  /** Iterates [key, value] pairs; entries deleted between steps are skipped. */
  *entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    for (const k of this.keys()) {
      const v = this.lookup(k);
      if (v) yield [k, v];
    }
  }

  /** Looks up and deletes atomically; for queue/stack maps call without a key (pop). */
  lookupAndDelete(key?: MapKey): Uint8Array | undefined {
    const r = this.elem(BpfCommand.MAP_LOOKUP_AND_DELETE_ELEM, key === undefined ? null : key, true, 0);
    if (r === -Errno.ENOENT) return undefined;
    if (r < 0) this.fail(r, 'lookup-and-delete', { ENOTSUPP: 'this map type does not support lookup-and-delete' });
    return this.valueBuf.bytes.slice(0, this.valueBufferSize);
  }

  /** Pushes a value onto a queue or stack (`UpdateFlag.EXIST` evicts the oldest when full). */
  push(value: Uint8Array, flags: number = UpdateFlag.ANY): void {
    this.putValue(value);
    const r = this.elem(BpfCommand.MAP_UPDATE_ELEM, null, true, flags);
    if (r < 0)
      this.fail(r, 'push', { E2BIG: `the ${mapTypeName(this.type)} is full (max_entries ${this.maxEntries})` });
  }

  /** Pops from a queue (oldest) or stack (newest); undefined when empty. */
  pop(): Uint8Array | undefined {
    if (!KEYLESS_MAP_TYPES.has(this.type)) {
      throw new InvalidArgumentError(Errno.EINVAL, `pop on ${this.describe()}`, 'pop needs a queue or stack map');
    }
    return this.lookupAndDelete();
  }

  /** Reads the next value of a queue/stack without removing it. */
  peek(): Uint8Array | undefined {
    const r = this.elem(BpfCommand.MAP_LOOKUP_ELEM, null, true, 0);
    if (r === -Errno.ENOENT) return undefined;
    if (r < 0) this.fail(r, 'peek');
    return this.valueBuf.bytes.slice(0, this.valueSize);
  }

  /**
   * Reads the whole map in batches of `batchSize` (BPF_MAP_LOOKUP_BATCH, or
   * LOOKUP_AND_DELETE_BATCH when `deleteAfter`). Throws NotSupportedError where the kernel or
   * map type lacks batch operations.
   */
  lookupBatch(opts: { batchSize?: number; deleteAfter?: boolean } = {}): Array<[Uint8Array, Uint8Array]> {
    const n = opts.batchSize ?? 256;
    const out: Array<[Uint8Array, Uint8Array]> = [];
    const keys = this.backend.alloc(n * this.keySize);
    const values = this.backend.alloc(n * this.valueBufferSize);
    const tokenSize = Math.max(8, this.keySize);
    const inTok = this.backend.alloc(tokenSize);
    const outTok = this.backend.alloc(tokenSize);
    const cmd = opts.deleteAfter ? BpfCommand.MAP_LOOKUP_AND_DELETE_BATCH : BpfCommand.MAP_LOOKUP_BATCH;
    try {
      let first = true;
      for (;;) {
        const r = this.sys.raw(cmd, MapBatchAttr, {
          inBatch: first ? 0 : inTok.address,
          outBatch: outTok.address,
          keys: keys.address,
          values: values.address,
          count: n,
          mapFd: this.fd,
        });
        const got = this.sys.attr.view.getUint32(MapBatchAttr.fields.count.offset, true);
        for (let i = 0; i < got; i++) {
          out.push([
            keys.bytes.slice(i * this.keySize, (i + 1) * this.keySize),
            values.bytes.slice(i * this.valueBufferSize, (i + 1) * this.valueBufferSize),
          ]);
        }
        if (r === -Errno.ENOENT) break;
        if (r < 0) this.fail(r, 'batch lookup', { EINVAL: 'this map type does not support batch operations' });
        inTok.bytes.set(outTok.bytes.subarray(0, tokenSize));
        first = false;
      }
    } finally {
      keys.free();
      values.free();
      inTok.free();
      outTok.free();
    }
    return out;
  }

  /** Writes many entries in one syscall (BPF_MAP_UPDATE_BATCH); returns how many were written. */
  updateBatch(entries: ReadonlyArray<readonly [MapKey, Uint8Array]>, flags: number = UpdateFlag.ANY): number {
    const n = entries.length;
    if (n === 0) return 0;
    const keys = this.backend.alloc(n * this.keySize);
    const values = this.backend.alloc(n * this.valueBufferSize);
    try {
      entries.forEach(([k, v], i) => {
        this.putKey(this.keyBuf, k);
        keys.bytes.set(this.keyBuf.bytes.subarray(0, this.keySize), i * this.keySize);
        values.bytes.set(v.subarray(0, this.valueBufferSize), i * this.valueBufferSize);
      });
      const r = this.sys.raw(BpfCommand.MAP_UPDATE_BATCH, MapBatchAttr, {
        keys: keys.address,
        values: values.address,
        count: n,
        mapFd: this.fd,
        elemFlags: flags,
      });
      if (r < 0) this.fail(r, 'batch update', { E2BIG: `the map is full (max_entries ${this.maxEntries})` });
      return this.sys.attr.view.getUint32(MapBatchAttr.fields.count.offset, true);
    } finally {
      keys.free();
      values.free();
    }
  }

  /** Deletes many keys in one syscall (BPF_MAP_DELETE_BATCH); returns how many were deleted. */
  deleteBatch(keyList: ReadonlyArray<MapKey>): number {
    const n = keyList.length;
    if (n === 0) return 0;
    const keys = this.backend.alloc(n * this.keySize);
    try {
      keyList.forEach((k, i) => {
        this.putKey(this.keyBuf, k);
        keys.bytes.set(this.keyBuf.bytes.subarray(0, this.keySize), i * this.keySize);
      });
      const r = this.sys.raw(BpfCommand.MAP_DELETE_BATCH, MapBatchAttr, {
        keys: keys.address,
        count: n,
        mapFd: this.fd,
      });
      const done = this.sys.attr.view.getUint32(MapBatchAttr.fields.count.offset, true);
      if (r < 0 && r !== -Errno.ENOENT) this.fail(r, 'batch delete');
      return done;
    } finally {
      keys.free();
    }
  }

  /** Makes the map read-only for user space (programs may still read it; see RDONLY_PROG). */
  freeze(): void {
    const r = this.sys.raw(BpfCommand.MAP_FREEZE, MapElemAttr, { mapFd: this.fd });
    if (r < 0) this.fail(r, 'freeze', { EBUSY: 'the map is mmapped writable or already frozen' });
  }

  /** Pins the map at a bpffs path (e.g. `/sys/fs/bpf/x`). */
  pin(path: string): void {
    pinFd(this.backend, this.fd, path, this.describe());
  }

  /** Kernel information about the map (id, BTF id, ...). */
  info(): MapInfoResult {
    return readMapInfo(this.backend, this.fd);
  }
}

/** Splits a per-CPU lookup result into one valueSize slice per CPU. */
export function splitPerCpu(all: Uint8Array, valueSize: number): Uint8Array[] {
  const stride = Math.ceil(valueSize / 8) * 8;
  const out: Uint8Array[] = [];
  for (let o = 0; o + valueSize <= all.length; o += stride) out.push(all.subarray(o, o + valueSize));
  return out;
}

/**
 * Sums a u64 counter across CPUs — for per-CPU counters such as a program's count of
 * ring buffer reserve failures (the loss a ring buffer reader cannot see by itself).
 */
export function sumPerCpuCounter(map: BpfMap, key: MapKey = 0): bigint {
  const values = map.lookupPerCpu(key);
  if (!values) return 0n;
  let sum = 0n;
  for (const v of values) sum += new DataView(v.buffer, v.byteOffset, v.byteLength).getBigUint64(0, true);
  return sum;
}

function readMapInfo(backend: SyscallBackend, fd: number): MapInfoResult {
  const { view, id } = getInfoByFd(backend, fd, MapInfo, 'map');
  return {
    id,
    type: readNumber(view, MapInfo.fields.type),
    keySize: readNumber(view, MapInfo.fields.keySize),
    valueSize: readNumber(view, MapInfo.fields.valueSize),
    maxEntries: readNumber(view, MapInfo.fields.maxEntries),
    flags: readNumber(view, MapInfo.fields.mapFlags),
    name: readString(view, MapInfo.fields.name),
    btfId: readNumber(view, MapInfo.fields.btfId),
    mapExtra: readBigInt(view, MapInfo.fields.mapExtra),
  };
}

/** Pins any BPF object fd at a bpffs path. */
export function pinFd(backend: SyscallBackend, fd: number, path: string, what: string): void {
  const p = nativeString(backend, path);
  try {
    bpfFor(backend).call(
      BpfCommand.OBJ_PIN,
      ObjAttr,
      { pathname: p.address, bpfFd: fd },
      {
        operation: `pin ${what} at ${path}`,
        hints: {
          EEXIST: 'the path is already pinned; unlink it first',
          ENOENT: 'the parent directory does not exist',
          EPERM: 'the path must be on a bpffs mount (mount -t bpf bpf /sys/fs/bpf) and you need root/CAP_BPF',
        },
      },
    );
  } finally {
    p.free();
  }
}

/** Opens a pinned BPF object; returns its fd. */
export function openPinned(backend: SyscallBackend, path: string, what: string): number {
  const p = nativeString(backend, path);
  try {
    return bpfFor(backend).call(BpfCommand.OBJ_GET, ObjAttr, { pathname: p.address }, () => ({
      operation: `open pinned ${what} ${path}`,
      hints: { ENOENT: 'nothing is pinned there' },
    }));
  } finally {
    p.free();
  }
}
