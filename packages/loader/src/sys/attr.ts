/**
 * Kernel ABI layouts: `union bpf_attr` per bpf(2) command, the info structs the kernel fills in,
 * `perf_event_attr` and `perf_event_mmap_page`. The offsets are generated from the kernel's BTF
 * by `scripts/gen-layouts.mjs` (with btf-parser); `attr.test.ts` checks every one of them
 * against bpftool's dump of the running kernel.
 */
export * from './generated/layouts.js';

/** Bit positions in perf_event_attr's flag word at offset 40. */
export const PerfEventFlag = {
  disabled: 1n << 0n,
  inherit: 1n << 1n,
  excludeKernel: 1n << 5n,
  watermark: 1n << 14n,
} as const;

/** Byte offset of perf_event_attr's flag word. */
export const PERF_EVENT_ATTR_FLAGS_OFFSET = 40;
