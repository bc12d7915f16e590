export { TextPrinter } from './text.js';
export { JsonPrinter, type JsonEvent, type JsonTuple } from './json.js';
export { bpfmapJson, bpfmapText, hexDump, type JsonBpfMap } from './bpfmap.js';
export { funcName, absoluteTime, type OutputContext, type ProbeSite, type Symbolizer } from './context.js';
export { TIMESTAMP_MODES, type OutputOptions } from './options.js';
export { formatTuple, protoName, tcpFlagsString } from './tuple.js';
export { center, tailTruncate, hex64, hexProto } from './columns.js';
export { ipv4String, ipv6String, ipBytes } from './ip.js';
export { BatchWriter, type ByteSink } from './writer.js';
export { RotatingFile, backupName, listBackups, type RotateOptions, type Backup } from './rotate.js';
export {
  TraceSummary,
  formatSummaryText,
  formatSummaryJson,
  summaryJson,
  type SummaryOptions,
  type SummaryResult,
  type JsonSummary,
} from './summary.js';
export { DumpJoiner, type EventDumps } from './dumps.js';
