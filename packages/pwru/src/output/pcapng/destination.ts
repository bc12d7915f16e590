/**
 * Where `--output-pcapng` goes: a file (created or truncated) or, with `-`, stdout. With `-` the
 * text or JSON lines move out of the way: to `--output-file` if given, else nowhere, so that
 * `pwru --output-pcapng - tcp | tshark -r -` reads a clean stream.
 */
import { release } from 'node:os';
import { PwruError } from '../../errors.js';
import type { PwruOptions } from '../../flags/spec.js';
import type { OutputContext } from '../context.js';
import { PcapngEventWriter } from './events.js';
import { RotatingPcapngSink } from './rotate.js';

/** An open pcapng output. */
export interface PcapngOutput {
  readonly events: PcapngEventWriter;
  /** Flushes and closes the file (not stdout), waiting for background compression of backups. */
  close(): Promise<void>;
}

/** Whether the text/JSON lines still go to stdout (not when the pcapng stream does). */
export function linesToStdout(opts: Pick<PwruOptions, 'outputPcapng' | 'outputFile'>): boolean {
  return !(opts.outputPcapng === '-' && opts.outputFile === '');
}

/** Opens `--output-pcapng` (undefined when not asked for). */
export function openPcapngOutput(
  opts: Pick<
    PwruOptions,
    | 'outputPcapng'
    | 'outputPcapngSnaplen'
    | 'outputFileMaxSize'
    | 'outputFileMaxBackups'
    | 'outputFileMaxAge'
    | 'outputFileCompress'
    | 'outputMeta'
    | 'outputTuple'
    | 'outputTcpFlags'
    | 'outputTunnel'
    | 'outputStack'
    | 'outputCaller'
    | 'outputSkbCb'
    | 'outputNetnsNames'
    | 'netnsNamesMaxLength'
    | 'timestamp'
  >,
  ctx: OutputContext,
  stdout: number,
  version = '',
): PcapngOutput | undefined {
  if (opts.outputPcapng === '') return undefined;
  let file: RotatingPcapngSink | undefined;
  if (opts.outputPcapng !== '-') {
    for (const [flag, v] of [
      ['max-size', opts.outputFileMaxSize],
      ['max-backups', opts.outputFileMaxBackups],
      ['max-age', opts.outputFileMaxAge],
    ] as const) {
      if (v < 0) throw new PwruError(`--output-file-${flag} must not be negative, not ${v}`);
    }
    try {
      file = new RotatingPcapngSink(opts.outputPcapng, {
        maxSizeMB: opts.outputFileMaxSize,
        maxBackups: opts.outputFileMaxBackups,
        maxAgeDays: opts.outputFileMaxAge,
        compress: opts.outputFileCompress,
      });
    } catch (e) {
      throw new PwruError(`cannot open the --output-pcapng file: ${(e as Error).message}`);
    }
  }
  const events = new PcapngEventWriter(file ?? stdout, ctx, {
    snaplen: opts.outputPcapngSnaplen,
    output: opts,
    section: { application: `pwru${version ? ' ' + version : ''}`, os: `Linux ${release()}`, hardware: process.arch },
  });
  file?.attach(events.writer);
  let closing: Promise<void> | undefined;
  return {
    events,
    close: () =>
      (closing ??= (async () => {
        events.flush();
        await file?.close();
      })()),
  };
}
