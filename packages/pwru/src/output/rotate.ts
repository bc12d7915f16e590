/**
 * `--output-file` with rotation, as upstream does it through lumberjack: when the next write would
 * take the file past its maximum size, it is renamed to a timestamped backup
 * (`trace-2006-01-02T15-04-05.000.log`, local time) and a new file is started. Backups beyond
 * `maxBackups`, or older than `maxAge` days, are removed; the rest are gzipped when `compress` is
 * set. Pruning and compression run in the background, so a rotation never stalls the tracer for
 * longer than a rename.
 *
 * One difference from lumberjack, on purpose: a write that does not fit is split at line
 * boundaries, so a trace line never straddles two files and a batch of lines larger than the
 * limit rotates in the middle instead of failing (lumberjack refuses any single write longer
 * than the maximum size).
 */
import {
  createReadStream,
  createWriteStream,
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { PwruError } from '../errors.js';

/** Rotation settings (upstream's `--output-file-*` flags). */
export interface RotateOptions {
  /** Megabytes (MiB, as lumberjack) before rotation; 0 means the default, 100. */
  readonly maxSizeMB?: number;
  /** Exact byte limit; overrides `maxSizeMB` (tests use tiny limits). */
  readonly maxBytes?: number;
  /** Backups to keep, newest first; 0 keeps all. */
  readonly maxBackups?: number;
  /** Days to keep backups, judged by the timestamp in their name; 0 keeps them forever. */
  readonly maxAgeDays?: number;
  /** Gzip rotated files (`name-<time>.ext.gz`). */
  readonly compress?: boolean;
  /** The clock (tests move it). */
  readonly now?: () => Date;
}

const MEGABYTE = 1024 * 1024;
const DAY_MS = 24 * 60 * 60 * 1000;
const NEWLINE = 0x0a;

const p2 = (n: number): string => String(n).padStart(2, '0');

/** Go's `2006-01-02T15-04-05.000` in local time: lumberjack's backup timestamp (`LocalTime: true`). */
export function backupTimestamp(d: Date): string {
  return (
    `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}T` +
    `${p2(d.getHours())}-${p2(d.getMinutes())}-${p2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`
  );
}

const STAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})\.(\d{3})$/;

/** Parses {@link backupTimestamp}'s format (local time); undefined when it is not one. */
export function parseBackupTimestamp(s: string): Date | undefined {
  const m = STAMP.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, sec, ms] = m.slice(1).map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(y, mo - 1, d, h, mi, sec, ms);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** The backup name of `file` rotated at `at`: `dir/name-<timestamp>.ext`. */
export function backupName(file: string, at: Date): string {
  const ext = extname(file);
  const base = basename(file, ext);
  return join(dirname(file), `${base}-${backupTimestamp(at)}${ext}`);
}

/** A rotated file found next to the live one. */
export interface Backup {
  readonly path: string;
  /** When it was rotated (from its name). */
  readonly time: Date;
  readonly compressed: boolean;
}

/** The backups of `file` in its directory, newest first. */
export function listBackups(file: string): Backup[] {
  const dir = dirname(file);
  const ext = extname(file);
  const prefix = `${basename(file, ext)}-`;
  const out: Backup[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const compressed = name.endsWith(`${ext}.gz`);
    const suffix = compressed ? `${ext}.gz` : ext;
    if (!name.endsWith(suffix)) continue;
    const time = parseBackupTimestamp(name.slice(prefix.length, name.length - suffix.length));
    if (time) out.push({ path: join(dir, name), time, compressed });
  }
  return out.sort((a, b) => b.time.getTime() - a.time.getTime());
}

/**
 * A log file that rotates itself. Writes are synchronous (the tracer writes batches of lines
 * with one syscall each); pruning and compression of backups happen asynchronously, one run at a
 * time, and {@link close} waits for them.
 */
export class RotatingFile {
  readonly maxBytes: number;
  private fd: number | undefined;
  private size = 0;
  private mode = 0o600;
  private mill: Promise<void> = Promise.resolve();
  private millAgain = false;
  private millRunning = false;
  /** The first error of a background prune or compression, reported by {@link close}. */
  private millError: Error | undefined;
  private readonly now: () => Date;

  constructor(
    readonly path: string,
    private readonly opts: RotateOptions = {},
  ) {
    this.maxBytes = opts.maxBytes ?? (opts.maxSizeMB && opts.maxSizeMB > 0 ? opts.maxSizeMB : 100) * MEGABYTE;
    if (!(this.maxBytes > 0)) throw new PwruError('--output-file-max-size must be greater than 0');
    this.now = opts.now ?? (() => new Date());
    this.openExisting();
  }

  /** Bytes in the current file. */
  get currentSize(): number {
    return this.size;
  }

  /** Appends to the existing file if there is one, as lumberjack does on start. */
  private openExisting(): void {
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o755 });
      let existing: ReturnType<typeof statSync> | undefined;
      try {
        existing = statSync(this.path);
      } catch {
        existing = undefined;
      }
      if (existing && existing.size < this.maxBytes) {
        this.fd = openSync(this.path, 'a', existing.mode & 0o7777);
        this.size = existing.size;
        this.mode = existing.mode & 0o7777;
      } else if (existing) {
        this.rotate();
      } else {
        this.fd = openSync(this.path, 'w', this.mode);
        this.size = 0;
      }
    } catch (e) {
      if (e instanceof PwruError) throw e;
      throw new PwruError(`cannot open --output-file ${this.path}: ${(e as Error).message}`);
    }
    this.scheduleMill();
  }

  /** Renames the current file to its backup name and starts an empty one. */
  rotate(): void {
    if (this.fd !== undefined) {
      try {
        this.mode = fstatSync(this.fd).mode & 0o7777;
      } catch {
        // Keep the previous mode.
      }
      closeSync(this.fd);
      this.fd = undefined;
    }
    // Two rotations in one millisecond would collide on the name: take the next free one.
    let at = this.now();
    while (existsSync(backupName(this.path, at)) || existsSync(`${backupName(this.path, at)}.gz`))
      at = new Date(at.getTime() + 1);
    try {
      renameSync(this.path, backupName(this.path, at));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new PwruError(`cannot rotate --output-file ${this.path}: ${(e as Error).message}`);
    }
    this.fd = openSync(this.path, 'w', this.mode);
    this.size = 0;
    this.scheduleMill();
  }

  /**
   * Writes bytes, rotating first whenever they would push the file past the limit. Lines stay
   * whole: the bytes are split after the last newline that still fits; a single line longer
   * than the limit gets a file of its own.
   */
  write(bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length) {
      const left = bytes.length - off;
      if (this.size + left <= this.maxBytes) {
        this.writeAll(bytes, off, left);
        return;
      }
      const room = this.maxBytes - this.size;
      let cut = room > 0 ? bytes.lastIndexOf(NEWLINE, off + room - 1) : -1;
      if (cut >= off) {
        this.writeAll(bytes, off, cut + 1 - off);
        off = cut + 1;
        this.rotate();
      } else if (this.size > 0) {
        this.rotate();
      } else {
        // A line longer than the whole limit: write it alone.
        cut = bytes.indexOf(NEWLINE, off);
        const end = cut < 0 ? bytes.length : cut + 1;
        this.writeAll(bytes, off, end - off);
        off = end;
        if (off < bytes.length) this.rotate();
      }
    }
  }

  /**
   * Writes `bytes` into the current file as one piece, never split: for binary formats whose
   * writer calls {@link rotate} itself at its own record boundaries (pcapng blocks).
   */
  writeWhole(bytes: Uint8Array): void {
    this.writeAll(bytes, 0, bytes.length);
  }

  private writeAll(bytes: Uint8Array, off: number, len: number): void {
    if (this.fd === undefined) throw new PwruError(`--output-file ${this.path} is closed`);
    const end = off + len;
    while (off < end) {
      try {
        off += writeSync(this.fd, bytes, off, end - off);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        throw new PwruError(`cannot write --output-file ${this.path}: ${(e as Error).message}`);
      }
    }
    this.size += len;
  }

  /** Runs prune-and-compress after the current run (never two at once). */
  private scheduleMill(): void {
    const o = this.opts;
    if (!o.maxBackups && !o.maxAgeDays && !o.compress) return;
    if (this.millRunning) {
      this.millAgain = true;
      return;
    }
    this.millRunning = true;
    this.mill = (async () => {
      do {
        this.millAgain = false;
        try {
          await this.millOnce();
        } catch (e) {
          this.millError ??= e as Error;
        }
      } while (this.millAgain);
      this.millRunning = false;
    })();
  }

  /** Waits for background pruning and compression to finish. */
  async settled(): Promise<void> {
    await this.mill;
  }

  private async millOnce(): Promise<void> {
    const o = this.opts;
    let backups = listBackups(this.path);
    const remove: Backup[] = [];
    if (o.maxBackups && o.maxBackups > 0) {
      // A backup and its compressed twin count once (a compression may have been interrupted).
      const kept = new Set<string>();
      const survivors: Backup[] = [];
      for (const b of backups) {
        const key = b.compressed ? b.path.slice(0, -3) : b.path;
        if (kept.has(key) || kept.size < o.maxBackups) {
          kept.add(key);
          survivors.push(b);
        } else remove.push(b);
      }
      backups = survivors;
    }
    if (o.maxAgeDays && o.maxAgeDays > 0) {
      const cutoff = this.now().getTime() - o.maxAgeDays * DAY_MS;
      const survivors: Backup[] = [];
      for (const b of backups) (b.time.getTime() < cutoff ? remove : survivors).push(b);
      backups = survivors;
    }
    for (const b of remove) {
      try {
        unlinkSync(b.path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    if (o.compress) {
      for (const b of backups) {
        if (b.compressed) continue;
        const mode = statSync(b.path).mode & 0o7777;
        await pipeline(createReadStream(b.path), createGzip(), createWriteStream(`${b.path}.gz`, { mode }));
        unlinkSync(b.path);
      }
    }
  }

  /** Closes the file after background work ends; rethrows the first background failure. */
  async close(): Promise<void> {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
    await this.mill;
    if (this.millError) throw new PwruError(`--output-file rotation: ${this.millError.message}`);
  }
}
