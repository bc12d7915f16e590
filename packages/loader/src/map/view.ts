import { InvalidArgumentError } from '../errors.js';
import { Errno } from '../sys/errno.js';
import { type Codec, decode, encode } from './codec.js';
import type { BpfMap } from './map.js';
import { UpdateFlag } from './spec.js';

/**
 * A map with typed keys and values: `get`, `set`, `delete` and iteration take and return
 * JavaScript values, encoded and decoded by the codecs (cilium/ebpf's unmarshalling, with the
 * layout declared once). The view does not own the map: close the map, not the view.
 *
 * @example
 *   const counts = new MapView(map, u32, u64);
 *   counts.get(2);                  // 17n, or undefined
 *   for (const [reason, n] of counts) console.log(reason, n);
 */
export class MapView<K, V> implements Iterable<[K, V]> {
  constructor(
    /** The underlying map. */
    readonly map: BpfMap,
    /** Key codec (its size must be the map's key_size). */
    readonly key: Codec<K>,
    /** Value codec (its size must be the map's value_size). */
    readonly value: Codec<V>,
  ) {
    if (key.size !== map.keySize) {
      throw new InvalidArgumentError(
        Errno.EINVAL,
        `typed view of map ${map.name || map.fd}`,
        `key codec is ${key.size} bytes, key_size is ${map.keySize}`,
      );
    }
    if (value.size !== map.valueSize) {
      throw new InvalidArgumentError(
        Errno.EINVAL,
        `typed view of map ${map.name || map.fd}`,
        `value codec is ${value.size} bytes, value_size is ${map.valueSize}`,
      );
    }
  }

  /** The value under `key`, or undefined. */
  get(key: K): V | undefined {
    const v = this.map.lookup(encode(this.key, key));
    return v === undefined ? undefined : decode(this.value, v);
  }

  /** The value of each CPU under `key` (per-CPU maps), or undefined. */
  getPerCpu(key: K): V[] | undefined {
    return this.map.lookupPerCpu(encode(this.key, key))?.map((v) => decode(this.value, v));
  }

  /** Creates or replaces the value under `key` ({@link UpdateFlag} in `flags`). */
  set(key: K, value: V, flags: number = UpdateFlag.ANY): void {
    this.map.update(encode(this.key, key), encode(this.value, value), flags);
  }

  /** Deletes `key`; false when it was not there. */
  delete(key: K): boolean {
    return this.map.delete(encode(this.key, key));
  }

  /** Iterates keys. */
  *keys(): IterableIterator<K> {
    for (const k of this.map.keys()) yield decode(this.key, k);
  }

  /** Iterates [key, value] pairs. */
  *entries(): IterableIterator<[K, V]> {
    for (const [k, v] of this.map.entries()) yield [decode(this.key, k), decode(this.value, v)];
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }
}
