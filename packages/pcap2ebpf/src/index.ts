/** pcap2ebpf: tcpdump (pcap-filter) expressions to classic BPF to eBPF, in pure TypeScript. */
export const VERSION = '0.1.0';
