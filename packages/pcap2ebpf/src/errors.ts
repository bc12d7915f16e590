/** The root of every error pcap2ebpf throws: `catch (e) { if (e instanceof Pcap2EbpfError) ... }`. */
export class Pcap2EbpfError extends Error {
  override name = 'Pcap2EbpfError';
}
