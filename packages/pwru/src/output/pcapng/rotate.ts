/**
 * `--output-pcapng FILE` with the `--output-file-*` rotation conventions: before a batch of
 * blocks would take the file past `--output-file-max-size`, it is renamed to its backup name
 * (`trace-2006-01-02T15-04-05.000.pcapng`) and a new file started with the Section Header and
 * every Interface Description so far, so each file reads on its own in Wireshark; backups are
 * pruned and compressed as `--output-file`'s are. An existing file below the limit is appended
 * to: pcapng allows several sections in one file.
 */
import { RotatingFile, type RotateOptions } from '../rotate.js';
import type { ByteSink } from '../writer.js';
import type { PcapngWriter } from './writer.js';

/** A {@link ByteSink} for a {@link PcapngWriter} that rotates its file between batches of blocks. */
export class RotatingPcapngSink implements ByteSink {
  readonly file: RotatingFile;
  private writer?: PcapngWriter;

  constructor(path: string, opts: RotateOptions) {
    this.file = new RotatingFile(path, opts);
  }

  /** The writer whose section this sink repeats at the start of each new file. */
  attach(writer: PcapngWriter): void {
    this.writer = writer;
  }

  write(bytes: Uint8Array): void {
    const f = this.file;
    if (f.currentSize > 0 && f.currentSize + bytes.length > f.maxBytes && this.writer) {
      f.rotate();
      f.writeWhole(this.writer.preamble());
    }
    f.writeWhole(bytes);
  }

  /** Closes the file and waits for background pruning and compression. */
  close(): Promise<void> {
    return this.file.close();
  }
}
