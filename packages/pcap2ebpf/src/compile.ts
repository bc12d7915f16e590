/**
 * The front door: a pcap-filter expression to a classic BPF program, as libpcap's `pcap_compile()`
 * does for `pcap_open_dead(linktype, 262144)`.
 */
import type { CbpfInstruction } from './cbpf/instruction.js';
import { BPF_K, BPF_RET } from './cbpf/opcode.js';
import { optimize as optimizeProgram } from './cbpf/optimize.js';
import { generate } from './codegen/generate.js';
import { FilterError } from './lang/errors.js';
import { NameResolver } from './names/resolver.js';

/** Link types: EN10MB = buffer starts at the Ethernet header, RAW = at the IP header. */
export type DataLinkType = 'EN10MB' | 'RAW';

/** Options of {@link compile}. */
export interface CompileOptions {
  /** Default `EN10MB`. */
  linktype?: DataLinkType;
  /** Run the optimizer (pwru's mode). Default `true`, like `tcpdump` without `-O`. */
  optimize?: boolean;
  /**
   * IPv4 netmask of the capture network, used only by `ip broadcast`. Default: unknown, which makes
   * `ip broadcast` an error as in pwru (tcpdump passes 0).
   */
  netmask?: number;
  /** Accept value of the program (`ret #snaplen`). Default 262144, libpcap's maximum snaplen. */
  snaplen?: number;
  /** Where names come from. Default: this machine's /etc files (read once, never DNS). */
  names?: NameResolver;
}

/** The classic BPF program for a filter, and facts about how it was produced. */
export interface CompiledFilter {
  instructions: CbpfInstruction[];
  /** Whether the optimizer ran (off on request, and always off for `protochain` and `geneve`, as in libpcap). */
  optimized: boolean;
}

let systemNames: NameResolver | undefined;

/** The resolver over this machine's /etc files, loaded on first use. */
export function systemNameResolver(): NameResolver {
  systemNames ??= NameResolver.fromDirectory('/etc');
  return systemNames;
}

/**
 * Compiles a pcap-filter expression to classic BPF with libpcap 1.10's semantics. An empty expression
 * accepts every packet.
 * @throws FilterError with libpcap's message and the position in the expression; with the optimizer on,
 *   a filter that can never match fails with "expression rejects all packets", as in libpcap.
 */
export function compileFilter(expr: string, options: CompileOptions = {}): CompiledFilter {
  const snaplen = options.snaplen ?? 262144;
  const gen = generate(expr, {
    linktype: options.linktype ?? 'EN10MB',
    snaplen,
    netmask: options.netmask,
    names: options.names ?? systemNameResolver(),
  });
  const wantOpt = options.optimize ?? true;
  if (!wantOpt || gen.noOptimize) return { instructions: gen.program, optimized: false };
  const instructions = optimizeProgram(gen.program);
  const only = instructions[0];
  if (instructions.length === 1 && only && only.code === (BPF_RET | BPF_K) && only.k === 0) {
    throw new FilterError('semantic', 'expression rejects all packets');
  }
  return { instructions, optimized: true };
}

/** {@link compileFilter}, returning just the instructions. */
export function compile(expr: string, options: CompileOptions = {}): CbpfInstruction[] {
  return compileFilter(expr, options).instructions;
}
