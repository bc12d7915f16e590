/** Command-line arguments of `pcap2ebpf`, parsed the way tcpdump reads its own. */
import { Pcap2EbpfError } from '../errors.js';
import type { DataLinkType } from '../compile.js';

/** What to print. */
export type OutputFormat = 'listing' | 'c' | 'decimal' | 'ebpf' | 'ebpf-kernel-mem';

/** A parsed command line. */
export interface CliArgs {
  linktype: DataLinkType;
  optimize: boolean;
  format: OutputFormat;
  /** Directory with services/protocols/networks/hosts/ethers; default /etc. */
  namesDir: string | undefined;
  expression: string;
  help: boolean;
  version: boolean;
}

/** A command line that cannot be run; the message says what to do. */
export class UsageError extends Pcap2EbpfError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The `--help` text. */
export const USAGE = `usage: pcap2ebpf [-y EN10MB|RAW] [-O] [-d|-dd|-ddd|--ebpf|--ebpf-kernel-mem] [--names-dir DIR] expression...

Compiles a tcpdump (pcap-filter) expression to classic BPF exactly as libpcap 1.10 does.
  -y EN10MB|RAW    link type: Ethernet frames (default) or raw IP packets
  -O               do not optimize (tcpdump -O)
  -d               print the program as tcpdump -d does (default)
  -dd              print it as C initialisers (tcpdump -dd)
  -ddd             print it as decimal numbers (tcpdump -ddd)
  --ebpf           print it lowered to an eBPF function with direct packet access
                   (R1 = packet start, R2 = packet end; LLVM assembler syntax)
  --ebpf-kernel-mem
                   print it lowered to an eBPF function for packets in kernel memory, as in
                   kprobe/tracing programs (R1 = address, R2 = length; one bpf_probe_read_kernel)
  --names-dir DIR  resolve names from DIR/services, protocols, networks, hosts, ethers (default /etc)
  -h, --help       this text
  --version        the version
The words after the options are joined with spaces into the expression, as tcpdump does.`;

const LINKTYPES: Record<string, DataLinkType> = { EN10MB: 'EN10MB', RAW: 'RAW' };

/** Parses `argv` (without node and script). @throws UsageError */
export function parseArgs(argv: readonly string[]): CliArgs {
  const out: CliArgs = {
    linktype: 'EN10MB',
    optimize: true,
    format: 'listing',
    namesDir: undefined,
    expression: '',
    help: false,
    version: false,
  };
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      words.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      words.push(a);
      continue;
    }
    switch (a) {
      case '-O':
        out.optimize = false;
        break;
      case '-d':
        out.format = 'listing';
        break;
      case '-dd':
        out.format = 'c';
        break;
      case '-ddd':
        out.format = 'decimal';
        break;
      case '--ebpf':
        out.format = 'ebpf';
        break;
      case '--ebpf-kernel-mem':
        out.format = 'ebpf-kernel-mem';
        break;
      case '-h':
      case '--help':
        out.help = true;
        break;
      case '--version':
        out.version = true;
        break;
      case '--names-dir': {
        const v = argv[++i];
        if (v === undefined) throw new UsageError('--names-dir needs a directory');
        out.namesDir = v;
        break;
      }
      default: {
        if (a.startsWith('-y')) {
          const v = a.length > 2 ? a.slice(2) : argv[++i];
          if (v === undefined) throw new UsageError('-y needs a link type: EN10MB or RAW');
          const lt = LINKTYPES[v.toUpperCase()];
          if (!lt) throw new UsageError(`unknown link type '${v}': use EN10MB or RAW`);
          out.linktype = lt;
          break;
        }
        throw new UsageError(`unknown option '${a}' (see pcap2ebpf --help)`);
      }
    }
  }
  out.expression = words.join(' ');
  return out;
}
