/**
 * This package's version, for `pcap2ebpf --version`. Not exported from the package: every package would
 * otherwise export a `VERSION` meaning a different thing; a library user reads
 * `<package>/package.json` instead (exported by each package).
 */
export const VERSION = '0.1.0';
