/**
 * The `pwru` command: parses the command line like upstream (pflag), prints help and version,
 * runs the trace, and turns every user error into one line and an exit status (2 for bad
 * flags, 1 for other errors, 0 after a signal or the line limit).
 */
import { KernelBtfCache } from 'btf-parser';
import { checkSupported, FlagParseError, formatUsage, parseArgs, UnsupportedFlagError } from './flags/index.js';
import { pcapFilters } from './generate/pcap.js';
import { VERSION } from './version.js';
import { Interrupts } from './interrupts.js';
import { readBtfFile } from './kernel/btf-file.js';
import { LoaderSession } from './kernel/loader-session.js';
import { Logger } from './log.js';
import { ProgressBar } from './progress.js';
import { describeError } from './run.js';
import { run } from './run-cli.js';
import { runOffline } from './sequence/offline.js';
import { timelineMain } from './timeline/cli.js';
import { processStartPhases, StartupTimes } from './timing.js';

/** When this module's body began: every static import is loaded and evaluated by then. */
const entered = performance.now();

async function main(argv: string[]): Promise<number> {
  // `pwru timeline ...` joins nodes' JSON streams (src/timeline); it loads nothing into the kernel.
  if (argv[0] === 'timeline') return timelineMain(argv.slice(1));
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
  if (opts.inputJson !== '') {
    try {
      return runOffline(opts, 1);
    } catch (e) {
      log.error('Failed to run pwru', { error: describeError(e) });
      return 1;
    }
  }
  // The first signal stops the trace; later ones say what pwru is still waiting for.
  const interrupts = new Interrupts();
  const stop = (): void => interrupts.raise();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('SIGHUP', stop);
  // --debug's start-up phases, from Node's own start.
  const times = new StartupTimes(undefined, entered);
  const before = processStartPhases(entered);
  times.add('node', before.node);
  times.add('modules', before.modules);
  times.end('flags');
  let session: LoaderSession;
  // One parsed kernel BTF for the whole run (feature probes, discovery, offsets).
  const cache = new KernelBtfCache({ ...(opts.kernelBtf ? { path: opts.kernelBtf } : {}), read: readBtfFile });
  try {
    const btf = cache.vmlinux();
    times.end('btf');
    session = new LoaderSession(btf, opts.filterKprobeBatch, !opts.kernelBtf);
  } catch (e) {
    log.error('Failed to run pwru', { error: `Failed to load BTF spec: ${describeError(e)}` });
    return 1;
  }
  return run(
    opts,
    session,
    { log, out: 1, signal: interrupts.signal, progress: (n) => new ProgressBar(n), interrupts, times },
    pcapFilters,
    cache,
  );
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    // Anything unexpected still gets one line, never a stack trace.
    process.stderr.write(`${Logger.format('ERROR', 'Failed to run pwru', { error: describeError(e) })}`);
    process.exit(1);
  },
);
