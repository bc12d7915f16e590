import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheDir, runBundle, startupDone } from './code-cache.js';

let work: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'pwru-code-cache-test-'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

/** A CommonJS bundle that records what it ran with in globalThis.__bundleRan. */
function bundle(name = 'b.cjs', body = ''): string {
  const file = join(work, name);
  writeFileSync(
    file,
    `const path = require('node:path');\nglobalThis.__bundleRan = { dir: __dirname, file: __filename, sep: path.sep, exportsOk: module.exports === exports };\n${body}\n` +
      // Enough functions that V8 has something to cache.
      Array.from({ length: 50 }, (_, i) => `function f${i}(x) { return x * ${i} + 1; }\nf${i}(${i});`).join('\n'),
  );
  return file;
}

const ran = () =>
  (globalThis as Record<string, unknown>).__bundleRan as { dir: string; file: string; sep: string; exportsOk: boolean };

describe('runBundle', () => {
  it('runs the bundle as CommonJS, with require, module, __filename and __dirname', () => {
    const file = bundle();
    runBundle(file, work, undefined);
    expect(ran()).toEqual({ dir: work, file, sep: '/', exportsOk: true });
  });

  // Each "next run" compiles a copy of the bundle under another name: within one process V8
  // would otherwise find the code in its own compilation cache and never look at the file.
  it('writes the cache once start-up is done, and the next run takes it', () => {
    const dir = cacheDir({ PWRU_CODE_CACHE_DIR: join(work, 'cache') })!;
    const first = runBundle(bundle('run1.cjs'), work, dir);
    expect(first.hit).toBe(false);
    expect(existsSync(first.file!)).toBe(false); // not before start-up is over
    startupDone();
    expect(existsSync(first.file!)).toBe(true);
    const second = runBundle(bundle('run2.cjs'), work, dir);
    expect(second).toEqual({ file: first.file, hit: true });
    startupDone(); // nothing to write after a hit: a no-op
  });

  it("keeps one cache per bundle content, replacing an earlier build's", () => {
    const dir = cacheDir({ PWRU_CODE_CACHE_DIR: join(work, 'cache') })!;
    const a = runBundle(bundle('a.cjs'), work, dir);
    startupDone();
    const b = runBundle(bundle('b.cjs', '// rebuilt'), work, dir);
    expect(b).toEqual({ file: expect.not.stringMatching(a.file!), hit: false });
    startupDone();
    expect(readdirSync(dir)).toEqual([b.file!.slice(dir.length + 1)]);
  });

  it('recompiles and rewrites a cache V8 rejects', () => {
    const dir = cacheDir({ PWRU_CODE_CACHE_DIR: join(work, 'cache') })!;
    const first = runBundle(bundle('run1.cjs', '// rejected'), work, dir);
    writeFileSync(first.file!, 'not V8 code cache data');
    const second = runBundle(bundle('run2.cjs', '// rejected'), work, dir);
    expect(second.hit).toBe(false);
    startupDone();
    expect(runBundle(bundle('run3.cjs', '// rejected'), work, dir).hit).toBe(true);
  });
});

describe('cacheDir', () => {
  it('creates the directory for this user alone', () => {
    const dir = cacheDir({ PWRU_CODE_CACHE_DIR: join(work, 'c') });
    expect(dir).toBe(join(work, 'c'));
  });

  it('refuses a directory others may write (V8 trusts what it loads)', () => {
    const dir = join(work, 'shared');
    cacheDir({ PWRU_CODE_CACHE_DIR: dir });
    chmodSync(dir, 0o777);
    expect(cacheDir({ PWRU_CODE_CACHE_DIR: dir })).toBeUndefined();
  });
});
