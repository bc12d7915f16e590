import { defaultBackend, type SyscallBackend } from './backend.js';

/**
 * Returns the C heap's free memory to the kernel (glibc `malloc_trim(0)`): native allocations
 * freed since start-up (koffi's buffers, V8's off-heap data, parsed files) otherwise stay in the
 * process's RSS. Worth calling once after a burst of allocation is over, e.g. when every program
 * is loaded and attached; it costs a walk over the arenas. Returns true when memory was released.
 */
export function trimMallocHeap(backend: SyscallBackend = defaultBackend()): boolean {
  return backend.mallocTrim();
}
