// Shared pieces of the VM benchmarks (kprobes.mjs, kprobe-multi.mjs): timed child processes,
// polling, medians and timestamped progress lines.
import { spawn } from 'node:child_process';

/** Resolves after `ms` milliseconds. */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The median of the finite numbers in `xs` (NaN when there are none). */
export function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** A progress line on stderr, prefixed with the time of day. */
export const log = (...a) => console.error(new Date().toISOString().slice(11, 19), ...a);

/** Resolves at the first time `cond()` holds, polling every `ms`; returns that time. */
export async function until(cond, ms = 50, timeoutMs = 3_600_000) {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > timeoutMs) throw new Error('timed out');
    await sleep(ms);
  }
  return performance.now();
}

/**
 * A spawned child with its stdout/stderr lines timestamped as they arrive: `line(re)` resolves to
 * the time the first line matching `re` arrived (rejects if the child exits first), `exited` to
 * the exit time and status.
 */
export function spawnTimed(cmd, argv, env = {}) {
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const lines = [];
  const waiters = [];
  const onLine = (text) => {
    const t = performance.now();
    for (const l of text.split(/[\r\n]+/)) {
      if (!l) continue;
      lines.push({ t, l });
      for (const w of waiters) if (!w.done && w.re.test(l)) (w.done = true), w.resolve(t);
    }
  };
  child.stdout.setEncoding('utf8').on('data', onLine);
  child.stderr.setEncoding('utf8').on('data', onLine);
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve({ t: performance.now(), code, signal })),
  );
  const line = (re) =>
    new Promise((resolve, reject) => {
      const hit = lines.find((x) => re.test(x.l));
      if (hit) return resolve(hit.t);
      waiters.push({ re, resolve, done: false });
      void exited.then((e) =>
        reject(
          new Error(
            `${cmd} exited (${e.code ?? e.signal}) before printing ${re}:\n${lines
              .slice(-8)
              .map((x) => x.l)
              .join('\n')}`,
          ),
        ),
      );
    });
  return { child, line, exited, lines };
}
