/** bpf-loader-ts: Load eBPF maps and programs, attach links and read ring/perf buffers from Node through koffi, with no native build. */
export const VERSION = '0.1.0';
