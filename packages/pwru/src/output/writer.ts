import { writeSync } from 'node:fs';

/** Something that takes whole batches of bytes (a {@link RotatingFile}, for `--output-file`). */
export interface ByteSink {
  write(bytes: Uint8Array): void;
}

/**
 * Batches formatted lines and writes them with one syscall per batch (upstream makes one write
 * per event). Appending to a string is cheaper in V8 than encoding each line into a buffer;
 * `flush()` after each ring-buffer drain keeps output prompt.
 */
export class BatchWriter {
  private buf = '';

  /** @param fd a file descriptor (stdout is 1), or a sink such as a rotating file. */
  constructor(
    private readonly fd: number | ByteSink,
    private readonly threshold = 1 << 16,
  ) {}

  /** Appends text; writes the batch once it passes the threshold. */
  write(s: string): void {
    this.buf += s;
    if (this.buf.length >= this.threshold) this.flush();
  }

  /** Characters waiting to be written. */
  get pending(): number {
    return this.buf.length;
  }

  /** Writes everything buffered. */
  flush(): void {
    if (this.buf === '') return;
    const bytes = Buffer.from(this.buf, 'utf8');
    this.buf = '';
    if (typeof this.fd !== 'number') {
      this.fd.write(bytes);
      return;
    }
    let off = 0;
    while (off < bytes.length) {
      try {
        off += writeSync(this.fd, bytes, off, bytes.length - off);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        throw e;
      }
    }
  }
}
