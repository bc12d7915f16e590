#!/usr/bin/env node
// Runs every package's benchmark (packages/*/bench/bench.mjs) one after another, so they do not
// compete for the two cores, and prints each package's side-by-side table as it finishes.
// Usage: npm run bench [-- package-dir ...]
import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv.slice(2);
const order = ['asm', 'btf', 'pcap2ebpf', 'loader', 'pwru'];
const dirs = readdirSync(join(root, 'packages'))
  .filter((d) => existsSync(join(root, 'packages', d, 'bench', 'bench.mjs')))
  .filter((d) => only.length === 0 || only.includes(d))
  .sort((a, b) => order.indexOf(a) - order.indexOf(b));

let failed = 0;
for (const d of dirs) {
  process.stdout.write(`\n## ${d}\n\n`);
  const r = spawnSync(process.execPath, [join('bench', 'bench.mjs')], {
    cwd: join(root, 'packages', d),
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`(benchmark for ${d} exited with ${r.status ?? r.signal})\n`);
  }
}
if (dirs.length === 0) process.stdout.write('no package has a benchmark yet\n');
process.exitCode = failed ? 1 : 0;
