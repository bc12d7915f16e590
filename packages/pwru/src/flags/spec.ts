import { NO_MARK_FILTER, type MarkFilter } from './mark.js';

/** Everything `pwru` can be told on its command line, with upstream's defaults. */
export interface PwruOptions {
  allKmods: boolean;
  backend: string;
  debug: boolean;
  filterFunc: string;
  filterIfname: string;
  filterKprobeBatch: number;
  filterMark: MarkFilter;
  filterNetns: string;
  filterNonSkbFuncs: string[];
  filterSkbExpr: string;
  filterTraceTc: boolean;
  filterTraceXdp: boolean;
  filterTrackBpfHelpers: boolean;
  filterTrackSkb: boolean;
  filterTrackSkbByStackid: boolean;
  filterTunnelPcapL2: string;
  filterTunnelPcapL3: string;
  filterXdpExpr: string;
  help: boolean;
  kernelBtf: string;
  kmods: string[];
  netnsNamesMaxLength: number;
  outputBpfmap: boolean;
  outputCt: boolean;
  outputNetfilter: boolean;
  outputCaller: boolean;
  outputFile: string;
  outputFileCompress: boolean;
  outputFileMaxAge: number;
  outputFileMaxBackups: number;
  outputFileMaxSize: number;
  outputJson: boolean;
  /** `--output-sequence` (ours, issue #14): at exit, each packet's path with per-hop latency. */
  outputSequence: boolean;
  /** `--output-html FILE` (ours, issue #14): at exit, the per-packet view as a self-contained HTML page. */
  outputHtml: string;
  /** `--input-json FILE` (ours): read saved `--output-json` events instead of tracing. */
  inputJson: string;
  /** `--output-pcapng FILE` (ours, issue #14): every event's packet bytes as pcapng (`-`: stdout). */
  outputPcapng: string;
  /** `--output-pcapng-snaplen N`: bytes copied per event at most. */
  outputPcapngSnaplen: number;
  outputLimitLines: number;
  outputMeta: boolean;
  outputNetnsNames: boolean;
  /** `--output-return` (ours; upstream's issue #10): return events with each function's return value. */
  outputReturn: boolean;
  outputSkb: boolean;
  outputSkbCb: boolean;
  outputSkbMetadata: string[];
  outputSkbSharedInfo: boolean;
  outputStack: boolean;
  outputSummary: boolean;
  outputSummaryByTuple: boolean;
  outputTcpFlags: boolean;
  outputTunnel: boolean;
  outputTuple: boolean;
  outputXdpMetadata: string[];
  readyFile: string;
  setPercpuBuf: number;
  timestamp: string;
  /** Not upstream's (its #394): trace only tc/XDP programs, no kernel functions. */
  traceOnlyBpf: boolean;
  version: boolean;
  /** The non-flag words joined with single spaces: the pcap-filter expression. */
  filterPcap: string;
}

/** How a flag's value is parsed; the names are pflag's `Value.Type()` (shown in `--help`). */
export type FlagKind = 'bool' | 'string' | 'strings' | 'uint' | 'uint8' | 'uint32' | 'int' | 'mark';

/** One command-line flag as upstream declares it. */
export interface FlagSpec {
  /** Long name, without dashes. */
  readonly name: string;
  /** One-letter short name (`h`), if any. */
  readonly shorthand?: string;
  readonly kind: FlagKind;
  /** The option it sets. */
  readonly key: keyof PwruOptions;
  /** Help text, verbatim from upstream (except `--backend`, which lists our extra backends). */
  readonly usage: string;
  /** pflag's textual default (`DefValue`), shown as `(default ...)` unless it is the type's zero. */
  readonly defValue: string;
  /** Not listed by `--help` (`--ready-file`). */
  readonly hidden?: boolean;
  /**
   * False for flags whose feature is not built yet: setting them to anything but the default is a
   * one-line error instead of being silently ignored.
   */
  readonly supported: boolean;
}

const f = (
  name: string,
  kind: FlagKind,
  key: keyof PwruOptions,
  defValue: string,
  usage: string,
  extra: Partial<Pick<FlagSpec, 'shorthand' | 'hidden' | 'supported'>> = {},
): FlagSpec => ({ name, kind, key, defValue, usage, supported: true, ...extra });

/** Every flag of upstream pwru's HEAD, in upstream's declaration-independent (sorted) order. */
export const FLAGS: readonly FlagSpec[] = [
  f('all-kmods', 'bool', 'allKmods', 'false', 'attach to all available kernel modules'),
  f(
    'backend',
    'string',
    'backend',
    '',
    "Tracing backend('kprobe', 'kprobe-multi', 'tracepoint', 'fentry'). Will auto-detect if not specified.",
  ),
  f('debug', 'bool', 'debug', 'false', 'enable debug logging'),
  f(
    'filter-func',
    'string',
    'filterFunc',
    '',
    'filter kernel functions to be probed by name (exact match, supports RE2 regular expression)',
  ),
  f(
    'filter-ifname',
    'string',
    'filterIfname',
    '',
    'filter skb ifname in --filter-netns (if not specified, use current netns)',
  ),
  f('filter-kprobe-batch', 'uint', 'filterKprobeBatch', '10', 'batch size for kprobe attaching/detaching'),
  f(
    'filter-mark',
    'mark',
    'filterMark',
    '0x0/0x0',
    'filter skb mark (format: mark[/mask], e.g., 0xa00/0xf00; default: 0/0; exact match if mask is omitted)',
  ),
  f('filter-netns', 'string', 'filterNetns', '', 'filter netns ("/proc/<pid>/ns/net", "inode:<inode>")'),
  f(
    'filter-non-skb-funcs',
    'strings',
    'filterNonSkbFuncs',
    '[]',
    'filter non-skb kernel functions to be probed (--filter-track-skb-by-stackid will be enabled)',
  ),
  f(
    'filter-skb-expr',
    'string',
    'filterSkbExpr',
    '',
    "filter skb with simple C expression, like 'skb->protocol == 0x0800'",
  ),
  f('filter-trace-tc', 'bool', 'filterTraceTc', 'false', 'trace TC bpf progs'),
  f('filter-trace-xdp', 'bool', 'filterTraceXdp', 'false', 'trace XDP bpf progs'),
  f('filter-track-bpf-helpers', 'bool', 'filterTrackBpfHelpers', 'false', 'trace BPF helper functions'),
  f(
    'filter-track-skb',
    'bool',
    'filterTrackSkb',
    'false',
    'trace a packet even if it does not match given filters (e.g., after NAT or tunnel decapsulation)',
  ),
  f(
    'filter-track-skb-by-stackid',
    'bool',
    'filterTrackSkbByStackid',
    'false',
    'trace a packet even after it is kfreed (e.g., traffic going through bridge)',
  ),
  f('filter-tunnel-pcap-l2', 'string', 'filterTunnelPcapL2', '', 'pcap expression for vxlan/geneve tunnel (l2)'),
  f('filter-tunnel-pcap-l3', 'string', 'filterTunnelPcapL3', '', 'pcap expression for vxlan/geneve tunnel (l3)'),
  f(
    'filter-xdp-expr',
    'string',
    'filterXdpExpr',
    '',
    "filter xdp with simple C expression, like 'xdp->rxq->dev->ifindex == 9'",
  ),
  f('help', 'bool', 'help', 'false', 'display this message and exit', { shorthand: 'h' }),
  f(
    'input-json',
    'string',
    'inputJson',
    '',
    'read events saved with --output-json from this file instead of tracing (with --output-sequence)',
  ),
  f('kernel-btf', 'string', 'kernelBtf', '', 'specify kernel BTF file'),
  f('kmods', 'strings', 'kmods', '[]', 'list of kernel modules names to attach to'),
  f(
    'netns-names-max-length',
    'uint8',
    'netnsNamesMaxLength',
    '16',
    'maximum number of chars to print per netns name (when not outputting JSON) (min 10)',
  ),
  f('output-bpfmap', 'bool', 'outputBpfmap', 'false', 'print function arguments related to bpf maps'),
  f(
    'output-ct',
    'bool',
    'outputCt',
    'false',
    'print the conntrack entry of the skb: state, status bits, both tuples, mark, zone',
  ),
  f(
    'output-netfilter',
    'bool',
    'outputNetfilter',
    'false',
    'print each iptables/nftables table (and nft base chain) the packet traversed, with its verdict (needs kprobes)',
  ),
  f('output-caller', 'bool', 'outputCaller', 'false', 'print caller function name'),
  f('output-file', 'string', 'outputFile', '', 'write traces to file (rotates at 100MB by default)'),
  f('output-file-compress', 'bool', 'outputFileCompress', 'false', 'compress rotated files with gzip'),
  f('output-file-max-age', 'int', 'outputFileMaxAge', '0', 'max age in days to keep rotated files (0, no limit)'),
  f('output-file-max-backups', 'int', 'outputFileMaxBackups', '0', 'max number of rotated files to keep (0, no limit)'),
  f('output-file-max-size', 'int', 'outputFileMaxSize', '100', 'max size in MB per file before rotation'),
  f(
    'output-html',
    'string',
    'outputHtml',
    '',
    "at exit, write each packet's path as a self-contained HTML page to this file",
  ),
  f('output-json', 'bool', 'outputJson', 'false', 'output traces in JSON format'),
  f(
    'output-limit-lines',
    'uint',
    'outputLimitLines',
    '0',
    'exit the program after the number of events has been received/printed',
  ),
  f('output-meta', 'bool', 'outputMeta', 'true', 'print skb metadata'),
  f('output-netns-names', 'bool', 'outputNetnsNames', 'false', 'print netns names where possible'),
  f(
    'output-pcapng',
    'string',
    'outputPcapng',
    '',
    'also write every event, with the packet bytes at that function, to this pcapng file ("-": stdout)',
  ),
  f(
    'output-pcapng-snaplen',
    'int',
    'outputPcapngSnaplen',
    '256',
    'bytes of each packet --output-pcapng captures at most',
  ),
  f(
    'output-return',
    'bool',
    'outputReturn',
    'false',
    "print each traced function's return value (kprobe, kprobe-multi and fentry backends)",
  ),
  f(
    'output-sequence',
    'bool',
    'outputSequence',
    'false',
    "at exit, print each packet's path (its events grouped by skb) with the time between hops",
  ),
  f('output-skb', 'bool', 'outputSkb', 'false', 'print skb'),
  f('output-skb-cb', 'bool', 'outputSkbCb', 'false', 'print skb->cb'),
  f(
    'output-skb-metadata',
    'strings',
    'outputSkbMetadata',
    '[]',
    'print skb metadata (e.g., "skb->mark", "skb->hash"), 4 at most',
  ),
  f('output-skb-shared-info', 'bool', 'outputSkbSharedInfo', 'false', 'print skb shared info'),
  f('output-stack', 'bool', 'outputStack', 'false', 'print stack'),
  f(
    'output-summary',
    'bool',
    'outputSummary',
    'false',
    'at exit, print a summary: functions by hits and drop reasons by count',
  ),
  f(
    'output-summary-by-tuple',
    'bool',
    'outputSummaryByTuple',
    'false',
    'with the summary, also count events and drops per L4 tuple (implies --output-summary)',
  ),
  f('output-tcp-flags', 'bool', 'outputTcpFlags', 'false', 'print TCP flags'),
  f('output-tunnel', 'bool', 'outputTunnel', 'false', 'print encapsulated tunnel header data'),
  f('output-tuple', 'bool', 'outputTuple', 'true', 'print L4 tuple'),
  f(
    'output-xdp-metadata',
    'strings',
    'outputXdpMetadata',
    '[]',
    'print xdp metadata (e.g., "xdp->rxq->queue_index"), 4 at most',
  ),
  f('ready-file', 'string', 'readyFile', '', 'create file after all BPF progs are attached', { hidden: true }),
  f(
    'set-percpu-buf',
    'uint32',
    'setPercpuBuf',
    '4096',
    'set the size of buffers to print skb data (used by --output-skb and --output-skb-shared-info)',
  ),
  f('timestamp', 'string', 'timestamp', 'none', 'print timestamp per skb ("current", "relative", "absolute", "none")'),
  f(
    'trace-only-bpf',
    'bool',
    'traceOnlyBpf',
    'false',
    'trace only tc/xdp BPF programs (those of --filter-trace-tc/--filter-trace-xdp, both if neither is given), no kernel functions',
  ),
  f('version', 'bool', 'version', 'false', 'show pwru version and exit'),
];

/** The options a bare `pwru` runs with. */
export function defaultOptions(): PwruOptions {
  return {
    allKmods: false,
    backend: '',
    debug: false,
    filterFunc: '',
    filterIfname: '',
    filterKprobeBatch: 10,
    filterMark: NO_MARK_FILTER,
    filterNetns: '',
    filterNonSkbFuncs: [],
    filterSkbExpr: '',
    filterTraceTc: false,
    filterTraceXdp: false,
    filterTrackBpfHelpers: false,
    filterTrackSkb: false,
    filterTrackSkbByStackid: false,
    filterTunnelPcapL2: '',
    filterTunnelPcapL3: '',
    filterXdpExpr: '',
    help: false,
    kernelBtf: '',
    kmods: [],
    netnsNamesMaxLength: 16,
    outputBpfmap: false,
    outputCt: false,
    outputNetfilter: false,
    outputCaller: false,
    outputFile: '',
    outputFileCompress: false,
    outputFileMaxAge: 0,
    outputFileMaxBackups: 0,
    outputFileMaxSize: 100,
    outputJson: false,
    outputSequence: false,
    outputHtml: '',
    inputJson: '',
    outputPcapng: '',
    outputPcapngSnaplen: 256,
    outputLimitLines: 0,
    outputMeta: true,
    outputNetnsNames: false,
    outputReturn: false,
    outputSkb: false,
    outputSkbCb: false,
    outputSkbMetadata: [],
    outputSkbSharedInfo: false,
    outputStack: false,
    outputSummary: false,
    outputSummaryByTuple: false,
    outputTcpFlags: false,
    outputTunnel: false,
    outputTuple: true,
    outputXdpMetadata: [],
    readyFile: '',
    setPercpuBuf: 4096,
    timestamp: 'none',
    traceOnlyBpf: false,
    version: false,
    filterPcap: '',
  };
}
