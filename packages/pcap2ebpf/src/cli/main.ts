/** The `pcap2ebpf` command, as a function of its arguments (so it can be tested without a process). */
import { existsSync } from 'node:fs';
import { print } from 'bpf-asm-ts';
import type { CbpfInstruction } from '../cbpf/instruction.js';
import { formatCbpfC, formatDecimal, formatListing } from '../cbpf/print.js';
import { LoweringError } from '../ebpf/errors.js';
import { lowerCbpf } from '../ebpf/lower.js';
import { compile } from '../compile.js';
import { FilterError } from '../lang/errors.js';
import { NameResolver } from '../names/resolver.js';
import { VERSION } from '../version.js';
import { type OutputFormat, parseArgs, USAGE, UsageError } from './args.js';

/** Where the command writes. */
export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Runs the command; returns the exit status (0 ok, 1 bad filter or usage, 2 internal error). */
export function main(argv: readonly string[], io: CliIo): number {
  try {
    const args = parseArgs(argv);
    if (args.help) {
      io.out(USAGE);
      return 0;
    }
    if (args.version) {
      io.out(`pcap2ebpf ${VERSION} (pcap-filter as in libpcap 1.10)`);
      return 0;
    }
    if (args.namesDir !== undefined && !existsSync(args.namesDir))
      throw new UsageError(`--names-dir: no directory ${args.namesDir}`);
    const names = args.namesDir !== undefined ? NameResolver.fromDirectory(args.namesDir) : undefined;
    const program = compile(args.expression, { linktype: args.linktype, optimize: args.optimize, names });
    for (const l of render(program, args.format)) io.out(l);
    return 0;
  } catch (e) {
    if (e instanceof FilterError) {
      const where = e.span ? ` (at offset ${e.span.start})` : '';
      io.err(`pcap2ebpf: ${e.reason.trimEnd()}${where}`);
      return 1;
    }
    if (e instanceof LoweringError) {
      io.err(`pcap2ebpf: cannot lower to eBPF: ${e.message}`);
      return 1;
    }
    if (e instanceof UsageError) {
      io.err(`pcap2ebpf: ${e.message}`);
      return 1;
    }
    // Never a stack trace: anything else is a bug worth reporting, in one line.
    io.err(`pcap2ebpf: internal error: ${e instanceof Error ? e.message : String(e)} (please report this expression)`);
    return 2;
  }
}

function render(program: CbpfInstruction[], format: OutputFormat): string[] {
  switch (format) {
    case 'listing':
      return formatListing(program);
    case 'c':
      return formatCbpfC(program);
    case 'decimal':
      return formatDecimal(program);
    case 'ebpf':
    case 'ebpf-kernel-mem': {
      const lowered = lowerCbpf(program, { memory: format === 'ebpf' ? 'packet' : 'kernel' });
      return print(lowered.instructions).trimEnd().split('\n');
    }
  }
}
