import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backupName, backupTimestamp, listBackups, parseBackupTimestamp, RotatingFile } from './rotate.js';

const enc = (s: string): Uint8Array => Buffer.from(s, 'utf8');

/** A clock that only moves when told to. */
function clock(start: Date): { now: () => Date; advance(ms: number): void } {
  let t = start.getTime();
  return { now: () => new Date(t), advance: (ms) => (t += ms) };
}

describe('backup names (lumberjack: name-2006-01-02T15-04-05.000.ext, local time)', () => {
  it('formats and parses the timestamp', () => {
    const d = new Date(2026, 0, 2, 3, 4, 5, 67);
    expect(backupTimestamp(d)).toBe('2026-01-02T03-04-05.067');
    expect(parseBackupTimestamp('2026-01-02T03-04-05.067')?.getTime()).toBe(d.getTime());
    expect(parseBackupTimestamp('2026-01-02T03:04:05.067')).toBeUndefined();
  });

  it('keeps the extension after the timestamp', () => {
    const d = new Date(2026, 10, 22, 1, 2, 3, 4);
    expect(backupName('/var/log/trace.log', d)).toBe('/var/log/trace-2026-11-22T01-02-03.004.log');
    expect(backupName('/tmp/trace', d)).toBe('/tmp/trace-2026-11-22T01-02-03.004');
  });
});

describe('RotatingFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pwru-rotate-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('appends to an existing file below the limit, as lumberjack does on start', async () => {
    const path = join(dir, 'trace.log');
    writeFileSync(path, 'old\n');
    const f = new RotatingFile(path, { maxBytes: 100 });
    f.write(enc('new\n'));
    await f.close();
    expect(readFileSync(path, 'utf8')).toBe('old\nnew\n');
    expect(listBackups(path)).toEqual([]);
  });

  it('rotates before a write that would pass the limit, keeping lines whole', async () => {
    const path = join(dir, 'trace.log');
    const c = clock(new Date(2026, 0, 1, 12, 0, 0, 0));
    const f = new RotatingFile(path, { maxBytes: 10, now: c.now });
    f.write(enc('aaaa\n'));
    f.write(enc('bbbb\n'));
    c.advance(1000);
    f.write(enc('cccc\n')); // 15 bytes would not fit: rotate first
    await f.close();
    expect(readFileSync(path, 'utf8')).toBe('cccc\n');
    const [b] = listBackups(path);
    expect(b!.path).toBe(join(dir, 'trace-2026-01-01T12-00-01.000.log'));
    expect(readFileSync(b!.path, 'utf8')).toBe('aaaa\nbbbb\n');
  });

  it('splits one large batch of lines across files at line boundaries', async () => {
    const path = join(dir, 'trace.log');
    const c = clock(new Date(2026, 0, 1, 12, 0, 0, 0));
    const f = new RotatingFile(path, { maxBytes: 12, now: c.now });
    f.write(enc('l1-aaaa\nl2-bbbb\nl3-cccc\nl4\n'));
    await f.close();
    const files = [
      ...listBackups(path)
        .reverse()
        .map((b) => b.path),
      path,
    ].map((p) => readFileSync(p, 'utf8'));
    expect(files).toEqual(['l1-aaaa\n', 'l2-bbbb\n', 'l3-cccc\nl4\n']);
    for (const p of [...listBackups(path).map((b) => b.path), path]) expect(statSync(p).size).toBeLessThanOrEqual(12);
  });

  it('gives a line longer than the limit a file of its own', async () => {
    const path = join(dir, 'trace.log');
    const f = new RotatingFile(path, { maxBytes: 4 });
    f.write(enc('ab\n'));
    f.write(enc('0123456789\nxy\n'));
    await f.close();
    const contents = [
      ...listBackups(path)
        .reverse()
        .map((b) => b.path),
      path,
    ].map((p) => readFileSync(p, 'utf8'));
    expect(contents).toEqual(['ab\n', '0123456789\n', 'xy\n']);
  });

  it('keeps the newest --output-file-max-backups backups and removes the rest', async () => {
    const path = join(dir, 'trace.log');
    const c = clock(new Date(2026, 0, 1, 12, 0, 0, 0));
    const f = new RotatingFile(path, { maxBytes: 6, maxBackups: 2, now: c.now });
    for (let i = 0; i < 5; i++) {
      f.write(enc(`line${i}\n`));
      c.advance(1000);
    }
    await f.close();
    const backups = listBackups(path);
    expect(backups.map((b) => readFileSync(b.path, 'utf8'))).toEqual(['line3\n', 'line2\n']);
    expect(readFileSync(path, 'utf8')).toBe('line4\n');
  });

  it('removes backups older than --output-file-max-age days, by the time in their name', async () => {
    const path = join(dir, 'trace.log');
    const start = new Date(2026, 0, 1, 12, 0, 0, 0);
    // Backups left by an earlier run: 10 days and 1 day old.
    writeFileSync(backupName(path, new Date(start.getTime() - 10 * 86_400_000)), 'ancient\n');
    writeFileSync(backupName(path, new Date(start.getTime() - 86_400_000)), 'recent\n');
    writeFileSync(join(dir, 'unrelated-2020-01-01T00-00-00.000.txt'), 'other\n');
    const f = new RotatingFile(path, { maxBytes: 100, maxAgeDays: 3, now: () => start });
    await f.settled();
    expect(listBackups(path).map((b) => readFileSync(b.path, 'utf8'))).toEqual(['recent\n']);
    expect(readdirSync(dir)).toContain('unrelated-2020-01-01T00-00-00.000.txt');
    await f.close();
  });

  it('gzips rotated files with --output-file-compress', async () => {
    const path = join(dir, 'trace.log');
    const c = clock(new Date(2026, 0, 1, 12, 0, 0, 0));
    const f = new RotatingFile(path, { maxBytes: 8, compress: true, now: c.now });
    f.write(enc('first\n'));
    c.advance(5);
    f.write(enc('second\n'));
    await f.close();
    const [b, ...rest] = listBackups(path);
    expect(rest).toEqual([]);
    expect(b!.compressed).toBe(true);
    expect(b!.path).toBe(join(dir, 'trace-2026-01-01T12-00-00.005.log.gz'));
    expect(gunzipSync(readFileSync(b!.path)).toString('utf8')).toBe('first\n');
    expect(readdirSync(dir).sort()).toEqual(['trace-2026-01-01T12-00-00.005.log.gz', 'trace.log']);
  });

  it('counts a backup and its compressed twin once when pruning by count', async () => {
    const path = join(dir, 'trace.log');
    const t = new Date(2026, 0, 1, 12, 0, 0, 0);
    const b1 = backupName(path, new Date(t.getTime() - 2000));
    writeFileSync(b1, 'x\n');
    writeFileSync(`${b1}.gz`, 'x\n');
    writeFileSync(backupName(path, new Date(t.getTime() - 5000)), 'older\n');
    const f = new RotatingFile(path, { maxBytes: 100, maxBackups: 1, now: () => t });
    await f.close();
    expect(
      listBackups(path)
        .map((b) => b.path)
        .sort(),
    ).toEqual([b1, `${b1}.gz`]);
  });

  it('never overwrites a backup when two rotations share a millisecond', async () => {
    const path = join(dir, 'trace.log');
    const t = new Date(2026, 0, 1, 12, 0, 0, 0);
    const f = new RotatingFile(path, { maxBytes: 3, now: () => t });
    f.write(enc('a\nb\nc\n'));
    await f.close();
    expect(
      listBackups(path)
        .map((b) => readFileSync(b.path, 'utf8'))
        .sort(),
    ).toEqual(['a\n', 'b\n']);
    expect(readFileSync(path, 'utf8')).toBe('c\n');
  });

  it('takes megabytes from --output-file-max-size, 100 by default', () => {
    const path = join(dir, 'trace.log');
    expect(new RotatingFile(path).maxBytes).toBe(100 * 1024 * 1024);
    expect(new RotatingFile(path, { maxSizeMB: 2 }).maxBytes).toBe(2 * 1024 * 1024);
  });
});
