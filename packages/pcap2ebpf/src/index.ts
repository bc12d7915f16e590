/** pcap2ebpf: tcpdump (pcap-filter) expressions to classic BPF to eBPF, in pure TypeScript. */
export const VERSION = '0.1.0';
export * from './cbpf/opcode.js';
export * from './cbpf/instruction.js';
export * from './cbpf/errors.js';
export * from './cbpf/print.js';
export * from './cbpf/sockfilter.js';
export * from './cbpf/interpreter.js';
export * from './cbpf/validate.js';
export * from './cbpf/optimize.js';
export * from './cbpf/cfg.js';
