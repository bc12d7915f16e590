#!/usr/bin/env node
// Runs every package's benchmark (packages/*/bench/bench.mjs) one after another, so they do not
// compete for the two cores, and prints each package's side-by-side table as it finishes.
// Then, with --vm (or BENCH_VM=1), the kprobe attach/detach and memory benchmark inside the test
// VM (tools/vm/bench.sh, also `npm run bench:vm`); it takes many minutes under qemu TCG.
// Usage: npm run bench [-- [--vm] package-dir ...]
import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const vm = process.argv.includes('--vm') || process.env.BENCH_VM === '1';
const only = process.argv.slice(2).filter((a) => a !== '--vm');
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
if (vm) {
  process.stdout.write('\n## kprobes in the test VM (tools/vm/bench.sh)\n\n');
  const r = spawnSync('bash', [join(root, 'tools', 'vm', 'bench.sh')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`(the VM benchmark exited with ${r.status ?? r.signal})\n`);
  }
} else {
  process.stdout.write(
    '\n(kprobe attach/detach vs bpftrace and pwru memory run in the test VM: npm run bench:vm, or npm run bench -- --vm)\n',
  );
}
process.exitCode = failed ? 1 : 0;
