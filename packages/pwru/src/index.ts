/**
 * pwru: packet, where are you? A Linux kernel packet tracer with eBPF, in TypeScript: Node alone, no compiler.
 *
 * The public API: `trace()` and the `Tracer` behind it, the typed events and their decoder, the
 * text and JSON printers, the command-line flags, the errors, and `generateProgram` for
 * building the tracing programs without loading them. (pwru's own benchmarks and tools reach the
 * rest through `dist/internal.js`, which is not an API.)
 */

// Tracing from code.
export { trace, traceOptions, TraceOptionError, type TraceEvent, type TraceOptions, type TraceInit } from './trace.js';
export { Tracer, type TracerEnv, type Progress } from './tracer.js';
export { LoaderSession } from './kernel/loader-session.js';
export type { KernelSession } from './kernel/session.js';
export { run, type RunIO } from './run-cli.js';

// Events: the record layout, its decoder, and the typed event.
export * from './event.js';

// Printing events as the command does.
export { TextPrinter, JsonPrinter, BatchWriter, TraceSummary, formatTuple } from './output/index.js';
export type {
  JsonEvent,
  JsonTuple,
  OutputContext,
  OutputOptions,
  ProbeSite,
  Symbolizer,
  ByteSink,
  SummaryOptions,
  SummaryResult,
} from './output/index.js';

// Options and the command line.
export {
  parseArgs,
  formatUsage,
  FLAGS,
  defaultOptions,
  FlagParseError,
  UnsupportedFlagError,
  FlagValueError,
} from './flags/index.js';
export type { ParsedArgs, PwruOptions, FlagSpec } from './flags/index.js';
export { BACKENDS, type Backend, type KernelFeatures } from './backend.js';

// Why the kernel did it: the conntrack and netfilter sections of events, the filter language.
export type { EventCt, CtTuple, JsonCt } from './ct/index.js';
export type { EventNetfilter, JsonNetfilter } from './netfilter/index.js';
// What identifies a packet between machines (the tuple's wire ids, `--output-json`).
export { dataHash, type EventWire } from './wire/section.js';
export { compileFilterExpr, FilterExprError, type FilterExpr } from './filter-expr/index.js';

// Errors: every one extends PwruError.
export { PwruError, MissingKernelFeatureError } from './errors.js';
export { Logger, type LogLevel, type LogSink } from './log.js';

// Building the programs without loading them.
export { generateProgram, type ProbeKind, type ProgramShape, type ProgramFilters } from './generate/program.js';
export { kernelLayoutFromBtf } from './generate/btf-layout.js';

// Packets' stories: pcapng export, the per-packet sequence view, and the cross-node timeline.
export * from './output/pcapng/index.js';
export * from './sequence/index.js';
/** Cross-node timeline (`pwru timeline`): one sequence per packet from several nodes' JSON streams. */
export * as timeline from './timeline/index.js';
