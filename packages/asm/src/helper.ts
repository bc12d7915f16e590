import { UnknownHelperError } from './errors.js';
import { HELPER_IDS } from './helpers.generated.js';

/** Name of a helper without the `bpf_` prefix, e.g. `map_lookup_elem`. */
export type HelperName = keyof typeof HELPER_IDS;

/**
 * Helper ids by name, generated from the kernel's `enum bpf_func_id`:
 * `Helper.map_lookup_elem === 1`, `Helper.ringbuf_reserve === 131`.
 * Pass them to `call()`.
 */
export const Helper: { readonly [K in HelperName]: number } = HELPER_IDS;

const namesById = new Map<number, HelperName>();
for (const [name, id] of Object.entries(HELPER_IDS)) namesById.set(id, name as HelperName);

/**
 * The id of a helper given its name with or without the `bpf_` prefix
 * (`'bpf_map_lookup_elem'` or `'map_lookup_elem'`), or a known id.
 * @throws {UnknownHelperError} for a name or id not in the table
 */
export function helperId(helper: string | number): number {
  if (typeof helper === 'number') {
    if (!namesById.has(helper)) throw new UnknownHelperError(helper);
    return helper;
  }
  const bare = helper.startsWith('bpf_') ? helper.slice(4) : helper;
  const id = Object.hasOwn(HELPER_IDS, bare) ? HELPER_IDS[bare as HelperName] : undefined;
  if (id === undefined) throw new UnknownHelperError(helper);
  return id;
}

/** The `bpf_`-prefixed name of a helper id (`bpf_map_lookup_elem`), or `undefined` if unknown. */
export function helperName(id: number): string | undefined {
  const name = namesById.get(id);
  return name === undefined ? undefined : `bpf_${name}`;
}

/** Every known helper as `[bpf_name, id]`, in id order. */
export function helpers(): Array<[string, number]> {
  return [...namesById].map(([id, name]) => [`bpf_${name}`, id]);
}
