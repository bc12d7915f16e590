/** pwru: packet, where are you? A Linux kernel packet tracer with eBPF, in TypeScript: Node alone, no compiler. */
export const VERSION = '0.1.0';
