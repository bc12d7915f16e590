import type { BpfMap } from '../map/map.js';
import { UpdateFlag } from '../map/spec.js';
import { btfCodec, type BtfCodec, type BtfValue } from './codec.js';
import type { BpfObject, GlobalVariable } from './load.js';
import { ObjectError } from './parse.js';

/** A map whose keys and values are decoded from (and encoded to) their BTF types. */
export class TypedMap<K extends BtfValue, V extends BtfValue> {
  private readonly key: BtfCodec;
  private readonly value: BtfCodec;

  /** Wraps `map` of a loaded object, with the key/value types its `.maps` definition declares. */
  constructor(
    /** The underlying map (bytes in, bytes out). */
    readonly map: BpfMap,
    object: BpfObject,
    name: string,
  ) {
    const spec = object.spec.maps.find((m) => m.name === name);
    const btf = object.spec.btf;
    if (!spec || !btf || !spec.keyTypeId || !spec.valueTypeId) {
      throw new ObjectError(
        `map "${name}" has no BTF key and value types (declare them with __type(key, ...) and __type(value, ...))`,
      );
    }
    this.key = btfCodec(btf, spec.keyTypeId);
    this.value = btfCodec(btf, spec.valueTypeId);
  }

  private encodeKey(k: K): Uint8Array {
    const b = new Uint8Array(this.key.size);
    this.key.encode(k, b);
    return b;
  }

  /** The value at `key`, decoded, or undefined. */
  lookup(key: K): V | undefined {
    const v = this.map.lookup(this.encodeKey(key));
    return v ? (this.value.decode(v) as V) : undefined;
  }

  /** Writes `value` at `key` (flags: UpdateFlag). */
  update(key: K, value: V, flags: number = UpdateFlag.ANY): void {
    const b = new Uint8Array(this.value.size);
    this.value.encode(value, b);
    this.map.update(this.encodeKey(key), b, flags);
  }

  /** Deletes `key`; false if it was absent. */
  delete(key: K): boolean {
    return this.map.delete(this.encodeKey(key));
  }

  /** Every entry, decoded. */
  *entries(): IterableIterator<[K, V]> {
    for (const [k, v] of this.map.entries()) yield [this.key.decode(k) as K, this.value.decode(v) as V];
  }
}

/**
 * Reads and writes the global variables of one data section (`.bss`, `.data`, `.rodata` —
 * read-only after load) of a loaded object, decoded by their BTF types.
 */
export class GlobalSection {
  private readonly vars: Map<string, { g: GlobalVariable; codec: BtfCodec }>;

  constructor(
    private readonly object: BpfObject,
    /** The section, e.g. `.bss`. */
    readonly section: string,
  ) {
    const btf = object.spec.btf;
    if (!btf || !object.maps[section]) throw new ObjectError(`the object has no data section ${section}`);
    this.vars = new Map(
      object
        .globals()
        .filter((g) => g.section === section)
        .map((g) => [g.name, { g, codec: btfCodec(btf, g.typeId) }]),
    );
  }

  private entry(name: string) {
    const e = this.vars.get(name);
    if (!e)
      throw new ObjectError(
        `${this.section} has no variable "${name}" (it has ${[...this.vars.keys()].join(', ') || 'none'})`,
      );
    return e;
  }

  /** The variable's current value. */
  get(name: string): BtfValue {
    const { g, codec } = this.entry(name);
    return codec.decode(this.object.maps[this.section]!.lookup(0)!, g.offset);
  }

  /** Sets the variable (read, modify, write the section's one value). */
  set(name: string, value: BtfValue): void {
    const { g, codec } = this.entry(name);
    const map = this.object.maps[this.section]!;
    const bytes = map.lookup(0)!;
    codec.encode(value, bytes, g.offset);
    map.update(0, bytes);
  }
}
