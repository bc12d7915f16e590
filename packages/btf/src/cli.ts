/** The `btf-dump` command: prints a BTF file like `bpftool btf dump file`. */
import { runBtfDump } from './dump-command.js';

process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

process.exitCode = await runBtfDump(process.argv.slice(2), {
  out: (chunk) =>
    process.stdout.write(chunk, 'latin1')
      ? undefined
      : new Promise<void>((resolve) => process.stdout.once('drain', resolve)),
  err: (text) => process.stderr.write(text),
});
