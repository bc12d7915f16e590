console.error('pcap2ebpf: not built yet');
process.exitCode = 1;
