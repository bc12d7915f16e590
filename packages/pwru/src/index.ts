/** pwru: packet, where are you? A Linux kernel packet tracer with eBPF, in TypeScript: Node alone, no compiler. */
export const VERSION = '0.1.0';

export * from './flags/index.js';
export * from './event.js';
export * from './output/index.js';
export { Logger, type LogLevel, type LogSink } from './log.js';
