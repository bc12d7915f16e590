/**
 * Log lines in the shape of Go's default `log/slog` handler, as upstream pwru prints them on
 * stderr: `2026/09/16 11:08:03 INFO Attached ignored=0`.
 */

/** Severity of a log line. */
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** Where log lines go (stderr by default). */
export type LogSink = (line: string) => void;

function needsQuoting(s: string): boolean {
  if (s === '') return true;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c <= 0x20 || c === 0x7f || ch === '=' || ch === '"' || c > 0x7e) return true;
  }
  return false;
}

/** slog's text rendering of one attribute value. */
export function formatValue(v: unknown): string {
  const s = v instanceof Error ? v.message : String(v);
  return needsQuoting(s) ? JSON.stringify(s) : s;
}

/** Go's `log` prefix: local `YYYY/MM/DD HH:MM:SS`. */
export function logTimestamp(d: Date = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A levelled logger writing slog-style lines. */
export class Logger {
  constructor(
    private readonly sink: LogSink = (line) => process.stderr.write(line),
    /** Whether DEBUG lines are printed (`--debug`). */
    public debugEnabled = false,
  ) {}

  /** Formats one line without writing it. */
  static format(level: LogLevel, msg: string, attrs: Record<string, unknown> = {}, now = new Date()): string {
    let line = `${logTimestamp(now)} ${level} ${msg}`;
    for (const [k, v] of Object.entries(attrs)) line += ` ${k}=${formatValue(v)}`;
    return line + '\n';
  }

  /** Writes a line at `level`. */
  log(level: LogLevel, msg: string, attrs?: Record<string, unknown>): void {
    if (level === 'DEBUG' && !this.debugEnabled) return;
    this.sink(Logger.format(level, msg, attrs));
  }

  /** DEBUG line (only with `--debug`). */
  debug(msg: string, attrs?: Record<string, unknown>): void {
    this.log('DEBUG', msg, attrs);
  }

  /** INFO line. */
  info(msg: string, attrs?: Record<string, unknown>): void {
    this.log('INFO', msg, attrs);
  }

  /** WARN line. */
  warn(msg: string, attrs?: Record<string, unknown>): void {
    this.log('WARN', msg, attrs);
  }

  /** ERROR line. */
  error(msg: string, attrs?: Record<string, unknown>): void {
    this.log('ERROR', msg, attrs);
  }
}
