/**
 * A V8 code cache for the CLI, since Node 20 has no `module.enableCompileCache`: the whole CLI is
 * one CommonJS bundle (`dist/pwru.cjs`, every workspace package inside) compiled with `vm.Script`
 * from the cached data of an earlier run. That skips resolving and compiling some thirty ES
 * modules and re-compiling the functions start-up runs: about half of pwru's module-load time.
 *
 * The cache is written once, by the first run that gets as far as tracing (so it holds the code
 * start-up needs, not just `--version`'s), and again whenever V8 rejects it (a new Node or a
 * rebuilt bundle). It lives in a directory only this user may write, as V8 trusts what it loads.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import vm from 'node:vm';

const READY = Symbol.for('pwru.codeCache.startupDone');

/**
 * Tells the launcher that start-up is over (everything is attached): the code compiled so far is
 * what the cache should hold. A no-op when pwru was not started through the cache.
 */
export function startupDone(): void {
  const hook = (globalThis as Record<symbol, unknown>)[READY];
  if (typeof hook === 'function') (hook as () => void)();
}

/**
 * The cache directory: `$PWRU_CODE_CACHE_DIR`, else `<tmpdir>/pwru-code-cache-<uid>`; created
 * with mode 0700. Undefined (no cache) when it is not a directory owned by this user that no one
 * else can write.
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = env.PWRU_CODE_CACHE_DIR || join(tmpdir(), `pwru-code-cache-${process.getuid?.() ?? 'user'}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    if (!st.isDirectory() || (process.getuid && st.uid !== process.getuid()) || (st.mode & 0o022) !== 0)
      return undefined;
    return dir;
  } catch {
    return undefined;
  }
}

/** What {@link runBundle} did with the cache, for tests. */
export interface CacheUse {
  /** The cache file, or undefined when there is no usable directory. */
  readonly file: string | undefined;
  /** Whether V8 took cached data (false: none, or rejected). */
  readonly hit: boolean;
}

/**
 * Runs the CommonJS bundle at `bundle` (its `require` resolving from `requireFrom`, a file URL or
 * path) with the code cache in `dir`. Returns at once; the bundle's own work goes on.
 */
export function runBundle(bundle: string, requireFrom: string, dir: string | undefined = cacheDir()): CacheUse {
  const source = readFileSync(bundle, 'utf8');
  // One file per bundle content and Node version. By the content, not its size or date: V8
  // checks little more than the source's length before trusting cached code.
  const key = createHash('sha256')
    .update(`${process.version}\0${process.arch}\0`)
    .update(source)
    .digest('hex')
    .slice(0, 16);
  const file = dir === undefined ? undefined : join(dir, `pwru-${key}.v8cache`);
  let cachedData: Buffer | undefined;
  if (file !== undefined) {
    try {
      cachedData = readFileSync(file);
    } catch {
      // First run of this build.
    }
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundle,
    ...(cachedData ? { cachedData } : {}),
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const hit = cachedData !== undefined && !script.cachedDataRejected;
  if (file !== undefined && !hit) {
    (globalThis as Record<symbol, unknown>)[READY] = () => {
      delete (globalThis as Record<symbol, unknown>)[READY];
      try {
        // Written aside and renamed: a concurrent run never reads half a file.
        const tmp = `${file}.${process.pid}`;
        writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
        renameSync(tmp, file);
        // Earlier builds' caches are of no further use.
        for (const f of readdirSync(dir!))
          if (/^pwru-[0-9a-f]{16}\.v8cache$/.test(f) && join(dir!, f) !== file) rmSync(join(dir!, f), { force: true });
      } catch {
        // No cache this time; the next run tries again.
      }
    };
  }
  const module = { exports: {} };
  const wrapper = script.runInThisContext() as (e: object, r: NodeJS.Require, m: object, f: string, d: string) => void;
  wrapper(module.exports, createRequire(requireFrom), module, bundle, dirname(bundle));
  return { file, hit };
}
