/** `pcap2ebpf` executable: see src/cli/main.ts. */
import { main } from './cli/main.js';

process.exitCode = main(process.argv.slice(2), {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
});
