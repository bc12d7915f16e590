/**
 * Everything pwru's modules export, for pwru's own benchmarks and VM tools (`dist/internal.js`).
 * Not a public API: it changes without notice. Library users import from 'pwru' (src/index.ts).
 */
export * from './flags/index.js';
export * from './event.js';
export * from './output/index.js';
export { Logger, type LogLevel, type LogSink } from './log.js';
export { Ksyms, KallsymsError, type Ksym } from './ksyms.js';
export {
  InterfaceCache,
  interfacesOf,
  netnsNames,
  parseNetnsSpec,
  currentNetnsInode,
  resolveIfname,
  NetnsError,
} from './netns.js';
export { processName } from './process.js';
export { functionMatcher, FilterFuncError } from './discovery/filter-func.js';
export {
  discoverSkbFunctions,
  readAvailableFilterFunctions,
  type SkbFunc,
  type Attachable,
} from './discovery/functions.js';
export { discoverSkbTracepoints, type SkbTracepoint } from './discovery/tracepoints.js';
export { chooseBackend, BACKENDS, type Backend, type KernelFeatures } from './backend.js';
export { PwruError, MissingKernelFeatureError } from './errors.js';
export { kernelLayoutFromBtf } from './generate/btf-layout.js';
export {
  generateProgram,
  frameFor,
  MAPS,
  type ProbeKind,
  type ProgramShape,
  type ProgramFilters,
} from './generate/program.js';
export {
  compileFilterExpr,
  filterExprFragment,
  evaluateCond,
  FilterExprError,
  SKB_EXPR_ROOT,
  XDP_EXPR_ROOT,
  type Cond,
  type FilterExpr,
} from './filter-expr/index.js';
export {
  netfilterJson,
  netfilterText,
  nfVerdictName,
  netfilterFieldsFromBtf,
  type EventNetfilter,
  type JsonNetfilter,
  type NetfilterFields,
} from './netfilter/index.js';
export {
  ctNames,
  ctJson,
  ctText,
  ctFieldsFromBtf,
  CtFieldsError,
  type CtNames,
  type EventCt,
  type CtTuple,
  type JsonCt,
} from './ct/index.js';
export { compileSkbMetadata, compileXdpMetadata, SkbMetadataError } from './generate/skb-metadata.js';
export { selectBpfProgTargets, bpfProgSiteName, type BpfProgTarget, type BpfProgHook } from './discovery/bpf-progs.js';
export { generateTcProgram } from './generate/tc.js';
export { generateXdpProgram, xdpLayoutFromBtf, type XdpLayout, type XdpProgramOptions } from './generate/xdp.js';
export {
  directCallTargets,
  instructionLength,
  sweep,
  type X86Instruction,
  type X86Sweep,
} from './discovery/x86-calls.js';
export { bpfHelperCalls, jitedBpfSymbols, type CodeSymbol } from './discovery/bpf-helpers.js';
export { Kcore, KcoreError, type KcoreSegment } from './kernel/kcore.js';
export { pcapFilters, PcapFilterError } from './generate/pcap.js';
export { planTrace, type TracePlan, type PlannedProgram, type AttachTarget } from './plan/programs.js';
export { bpfMapFields, bpfMapOp, type BpfMapFields, type BpfMapOp } from './generate/bpfmap.js';
export { checkBpfmapBackend, GENERIC_MAP_HELPERS, isBpfMapFunction, withBpfMapFunctions } from './bpfmap.js';
export { prepare, describeError, type PcapCompiler } from './run.js';
export { run, type RunIO } from './run-cli.js';
export { Tracer, type TracerEnv, type Progress } from './tracer.js';
export { trace, traceOptions, TraceOptionError, type TraceEvent, type TraceOptions, type TraceInit } from './trace.js';
export { LoaderSession } from './kernel/loader-session.js';
export type { KernelSession, RingReader, Attachment, AttachResult } from './kernel/session.js';
export { ProgressBar } from './progress.js';
export * from './output/pcapng/index.js';
export * from './sequence/index.js';
export * as timeline from './timeline/index.js';
