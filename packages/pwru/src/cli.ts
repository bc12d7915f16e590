/**
 * The `pwru` command: parses the command line like upstream (pflag), prints help and version,
 * and turns every user error into one line and an exit status (2 for bad flags, 1 otherwise).
 */
import { checkSupported, FlagParseError, formatUsage, parseArgs, UnsupportedFlagError } from './flags/index.js';
import { VERSION } from './index.js';
import { Logger } from './log.js';

function main(argv: string[]): number {
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (e) {
    if (e instanceof FlagParseError) {
      process.stderr.write(`${e.message}\n${formatUsage()}`);
      return 2;
    }
    throw e;
  }
  const opts = parsed.options;
  if (opts.help) {
    process.stderr.write(formatUsage());
    return 0;
  }
  if (opts.version) {
    process.stdout.write(`pwru v${VERSION}\n`);
    return 0;
  }
  const log = new Logger(undefined, opts.debug);
  try {
    checkSupported(parsed);
  } catch (e) {
    if (e instanceof UnsupportedFlagError) {
      log.error('Failed to run pwru', { error: e.message });
      return 1;
    }
    throw e;
  }
  log.error('Failed to run pwru', { error: 'tracing is not available in this build yet' });
  return 1;
}

process.exitCode = main(process.argv.slice(2));
