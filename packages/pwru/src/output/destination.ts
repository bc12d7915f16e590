/**
 * Where trace lines go: stdout, or `--output-file` with lumberjack-style rotation. Logs and
 * progress bars stay on stderr either way, as upstream.
 */
import { PwruError } from '../errors.js';
import type { PwruOptions } from '../flags/spec.js';
import { RotatingFile } from './rotate.js';
import { BatchWriter } from './writer.js';

/** The trace output of a run. */
export interface TraceOutput {
  readonly writer: BatchWriter;
  /** The rotating file, with `--output-file`. */
  readonly file?: RotatingFile;
  /** Flushes, closes the file and waits for background compression. */
  close(): Promise<void>;
}

/** Opens `--output-file` (with its rotation flags) or wraps `fd` (stdout). */
export function openTraceOutput(
  opts: Pick<
    PwruOptions,
    'outputFile' | 'outputFileMaxSize' | 'outputFileMaxBackups' | 'outputFileMaxAge' | 'outputFileCompress'
  >,
  fd: number,
): TraceOutput {
  if (opts.outputFile === '') {
    const writer = new BatchWriter(fd);
    return { writer, close: async () => writer.flush() };
  }
  for (const [flag, v] of [
    ['max-size', opts.outputFileMaxSize],
    ['max-backups', opts.outputFileMaxBackups],
    ['max-age', opts.outputFileMaxAge],
  ] as const) {
    if (v < 0) throw new PwruError(`--output-file-${flag} must not be negative, not ${v}`);
  }
  const file = new RotatingFile(opts.outputFile, {
    maxSizeMB: opts.outputFileMaxSize,
    maxBackups: opts.outputFileMaxBackups,
    maxAgeDays: opts.outputFileMaxAge,
    compress: opts.outputFileCompress,
  });
  const writer = new BatchWriter(file);
  return {
    writer,
    file,
    close: async () => {
      writer.flush();
      await file.close();
    },
  };
}
