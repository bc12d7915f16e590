/**
 * Start-up's garbage handed back to the kernel once every program is attached. A module of its
 * own, not in heap.ts: the launcher imports heap.ts before the code-cached bundle runs, and this
 * module's import of bpf-loader-ts there would load the loader's ES modules beside the bundle.
 */
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { trimMallocHeap } from 'bpf-loader-ts';

/**
 * A full V8 collection (start-up's parsed BTF, plans and generated instructions that nothing
 * references any more), then glibc's malloc_trim for the native memory freed with them.
 * `trim` is the malloc trim to call (tests pass their own).
 */
export function settleHeap(trim: () => boolean = trimMallocHeap): void {
  fullCollection();
  trim();
}

/** One full V8 collection, through `gc` exposed for this call only. */
function fullCollection(): void {
  v8.setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  v8.setFlagsFromString('--no-expose-gc');
  gc();
}
