// Startup to "Listening": pwru (tracepoint backend, every skb tracepoint) vs bpftrace attaching
// the same tracepoints, measured in the same run (medians).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKernelBtf } from 'btf-parser';
import { discoverSkbTracepoints } from '../dist/internal.js';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function timeUntil(cmd, args, isReady, stop) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let done = false;
    let exited = false;
    const settle = (ms) => (ms === undefined ? reject(new Error(err.trim().split('\n').pop() || 'exited')) : resolve(ms));
    const finish = (ms) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      if (exited) return settle(ms);
      child.kill(stop);
      child.on('exit', () => settle(ms));
    };
    const check = () => {
      if (isReady(out)) finish(Number(process.hrtime.bigint() - t0) / 1e6);
    };
    const timer = setInterval(check, 2);
    child.stdout.on('data', (d) => ((out += d), check()));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', () => {
      exited = true;
      finish(undefined);
    });
    setTimeout(() => finish(undefined), 60_000);
  });
}

/** Category (tracefs events directory) of each tracepoint name. */
function tracefsCategories() {
  const root = '/sys/kernel/tracing/events';
  const out = new Map();
  if (!existsSync(root)) return out;
  for (const cat of readdirSync(root)) {
    let names;
    try {
      names = readdirSync(join(root, cat));
    } catch {
      continue;
    }
    for (const n of names) if (!out.has(n)) out.set(n, cat);
  }
  return out;
}

/** bpftrace probe names (`tracepoint:<category>:<name>`) of every skb tracepoint tracefs lists. */
export function skbTracepointProbes() {
  if (spawnSync('mountpoint', ['-q', '/sys/kernel/tracing']).status !== 0) spawnSync('mount', ['-t', 'tracefs', 'nodev', '/sys/kernel/tracing']);
  const cats = tracefsCategories();
  return discoverSkbTracepoints(loadKernelBtf(), () => true)
    .map((t) => t.name)
    .filter((n) => cats.has(n))
    .map((n) => `tracepoint:${cats.get(n)}:${n}`);
}

export async function startupRows(runs) {
  if (process.getuid?.() !== 0) return [['startup to "Listening" (skipped: needs root)', '', '']];
  const tps = discoverSkbTracepoints(loadKernelBtf(), () => true).map((t) => t.name);
  const probes = skbTracepointProbes();
  const dir = mkdtempSync(join(tmpdir(), 'pwru-bench-'));
  const ready = join(dir, 'ready');
  const bin = new URL('../bin/pwru.js', import.meta.url).pathname;
  const pwru = [];
  const bpftrace = [];
  const haveBpftrace = spawnSync('bpftrace', ['--version']).status === 0 && probes.length > 0;
  for (let i = 0; i < runs; i++) {
    rmSync(ready, { force: true });
    pwru.push(await timeUntil(process.execPath, [bin, '--backend=tracepoint', '--ready-file', ready, 'host 10.255.255.254 and tcp'], () => existsSync(ready), 'SIGTERM'));
    if (haveBpftrace) {
      const script = `${probes.join(',')} { @n = count(); } BEGIN { printf("ready\\n"); }`;
      bpftrace.push(await timeUntil('bpftrace', ['-B', 'line', '-e', script], (out) => out.includes('ready'), 'SIGKILL'));
    }
  }
  const rows = [[`startup to "Listening", ${tps.length} skb tracepoints (pwru, tracepoint backend, with a pcap filter)`, `${median(pwru).toFixed(0)} ms`, haveBpftrace ? `${(median(pwru) / median(bpftrace)).toFixed(2)}x` : 'n/a']];
  if (haveBpftrace) rows.push([`peer: bpftrace attaching the same ${probes.length} tracepoints (to its BEGIN probe)`, `${median(bpftrace).toFixed(0)} ms`, '1.00x']);
  else rows.push(['peer: bpftrace (not installed, or tracefs not mounted at /sys/kernel/tracing)', 'n/a', 'n/a']);
  return rows;
}
