/** The `bpf-loader-ts` command (`gen skeleton`). */
import { runCli } from './cli-command.js';

process.exitCode = runCli(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
});
