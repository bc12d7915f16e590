/**
 * Where `--output-pcapng` goes: a file (created or truncated) or, with `-`, stdout. With `-` the
 * text or JSON lines move out of the way: to `--output-file` if given, else nowhere, so that
 * `pwru --output-pcapng - tcp | tshark -r -` reads a clean stream.
 */
import { closeSync, openSync } from 'node:fs';
import { release } from 'node:os';
import { PwruError } from '../../errors.js';
import type { PwruOptions } from '../../flags/spec.js';
import type { OutputContext } from '../context.js';
import { PcapngEventWriter } from './events.js';

/** An open pcapng output. */
export interface PcapngOutput {
  readonly events: PcapngEventWriter;
  /** Flushes and closes the file (not stdout). */
  close(): void;
}

/** Whether the text/JSON lines still go to stdout (not when the pcapng stream does). */
export function linesToStdout(opts: Pick<PwruOptions, 'outputPcapng' | 'outputFile'>): boolean {
  return !(opts.outputPcapng === '-' && opts.outputFile === '');
}

/** Opens `--output-pcapng` (undefined when not asked for). */
export function openPcapngOutput(
  opts: Pick<PwruOptions, 'outputPcapng' | 'outputPcapngSnaplen' | 'outputMeta' | 'outputTuple' | 'outputTcpFlags' | 'outputTunnel' | 'outputStack' | 'outputCaller' | 'outputSkbCb' | 'outputNetnsNames' | 'netnsNamesMaxLength' | 'timestamp'>,
  ctx: OutputContext,
  stdout: number,
  version = '',
): PcapngOutput | undefined {
  if (opts.outputPcapng === '') return undefined;
  let fd = stdout;
  const toFile = opts.outputPcapng !== '-';
  if (toFile) {
    try {
      fd = openSync(opts.outputPcapng, 'w');
    } catch (e) {
      throw new PwruError(`cannot create the --output-pcapng file ${opts.outputPcapng}: ${(e as Error).message}`);
    }
  }
  const events = new PcapngEventWriter(fd, ctx, {
    snaplen: opts.outputPcapngSnaplen,
    output: opts,
    section: { application: `pwru${version ? ' ' + version : ''}`, os: `Linux ${release()}`, hardware: process.arch },
  });
  let closed = false;
  return {
    events,
    close: () => {
      if (closed) return;
      closed = true;
      events.flush();
      if (toFile) closeSync(fd);
    },
  };
}
