#!/usr/bin/env node
// Benchmarks btf-parser against libbpf and bpftool, side by side in one run.
//   npx tsup && node bench/bench.mjs [BTF_FILE] [--runs N]
// Peers: a tiny C program calling libbpf's btf__parse and btf__new (bench/libbpf-peer.c, compiled
// here with gcc against libbpf-dev into a temp dir), and `bpftool btf dump file F [format c]`.
// Parse + index is timed as the same work on both sides, twice: from the file (our loadBtfFile
// reads it like libbpf's btf__parse does) and from bytes already in memory (Btf.parse against
// btf__new, which also copies them), each followed by the first by-name query.
// Prints a markdown table of medians and ratios (ours / peer; below 1 means we are faster).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const { Btf, loadBtfFile, skbFunctions, formatRaw, formatC } = await import(join(here, '../dist/index.js'));

const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const RUNS = runsAt >= 0 ? Number(args[runsAt + 1]) : 15;
const FILE = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--runs') ?? '/sys/kernel/btf/vmlinux';
if (!existsSync(FILE)) {
  console.error(`bench: ${FILE} does not exist; pass a BTF file`);
  process.exit(1);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const time = (f) => {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
};
const which = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

const bytes = readFileSync(FILE);
const rows = [];

// --- ours: parse + index, skb discovery, retained memory --------------------------------------
const cpuSince = (c0) => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e3;
};
const cpuTime = (f) => {
  const c0 = process.cpuUsage();
  f();
  return cpuSince(c0);
};
const load = [];
const loadCpu = [];
const parse = [];
const skb = [];
const parseCpu = [];
const skbCpu = [];
const firstQuery = [];
const laterQuery = [];
const familyQuery = [];
const FAMILY_NAME = 'trace_event_raw_kfree_skb';
let skbCount = 0;
for (let i = 0; i < RUNS; i++) {
  // From the file: read, parse, index, answer.
  const l0 = process.cpuUsage();
  const tl = performance.now();
  loadBtfFile(FILE).idsByName('sk_buff', 'struct');
  loadCpu.push(cpuSince(l0));
  load.push(performance.now() - tl);
  // From memory: the bytes read once above.
  let btf;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  btf = Btf.parse(bytes);
  const tq = performance.now();
  btf.idsByName('sk_buff', 'struct');
  const t1 = performance.now();
  parse.push(t1 - t0);
  firstQuery.push(t1 - tq);
  const c1 = process.cpuUsage();
  skb.push(time(() => (skbCount = skbFunctions(btf).length)));
  const c2 = process.cpuUsage();
  laterQuery.push(time(() => btf.idsByName('net_device', 'struct')));
  // A name in a family sharing its first eight bytes (about 2,500 trace_event_* types): the first
  // query into the family walks its chain and refines it (see src/name-index.ts).
  familyQuery.push(time(() => btf.idsByName(FAMILY_NAME, 'struct')));
  parseCpu.push((c1.user + c1.system - c0.user - c0.system) / 1e3);
  skbCpu.push((c2.user + c2.system - c1.user - c1.system) / 1e3);
}
// Retained memory in a fresh process, so the timing loop's garbage does not blur it.
const retained = JSON.parse(
  execFileSync(process.execPath, ['--expose-gc', join(here, 'retained.mjs'), join(here, '../dist/index.js'), FILE], {
    encoding: 'utf8',
  }),
).retained;

// The first by-name query in fresh processes: what a CLI's start-up pays, before the JIT warms up.
const firstCold = [];
for (let i = 0; i < Math.max(3, Math.min(RUNS, 7)); i++) {
  const out = execFileSync(process.execPath, [join(here, 'first-query.mjs'), join(here, '../dist/index.js'), FILE], {
    encoding: 'utf8',
  });
  firstCold.push(JSON.parse(out).first);
}

// --- libbpf peer ---------------------------------------------------------------------------
let peer;
const work = mkdtempSync(join(tmpdir(), 'btf-bench-'));
try {
  if (which('gcc')) {
    const exe = join(work, 'libbpf-peer');
    try {
      execFileSync('gcc', ['-O2', join(here, 'libbpf-peer.c'), '-lbpf', '-o', exe], { stdio: 'pipe' });
      peer = JSON.parse(execFileSync(exe, [FILE, String(RUNS)], { encoding: 'utf8' }));
    } catch (e) {
      console.error(
        `bench: libbpf peer unavailable (${String(e.stderr ?? e).split('\n')[0]}); install gcc and libbpf-dev`,
      );
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const fmt = (x) => (x === undefined ? 'n/a' : x < 0.1 ? x.toFixed(4) : x.toFixed(2));
const ratio = (a, b) => (b === undefined ? 'n/a' : `${(a / b).toFixed(2)}x`);
rows.push([
  'parse + name index, from the file (wall ms)',
  median(load),
  peer?.parse_ms,
  'libbpf btf__parse(path) + btf__find_by_name_kind',
]);
rows.push(['parse + name index, from the file (CPU ms)', median(loadCpu), peer?.parse_cpu_ms, 'the same']);
rows.push([
  'parse + name index, from memory (wall ms)',
  median(parse),
  peer?.mem_ms,
  'libbpf btf__new(bytes) + btf__find_by_name_kind',
]);
rows.push(['parse + name index, from memory (CPU ms)', median(parseCpu), peer?.mem_cpu_ms, 'the same']);
rows.push([
  'first by-name query, fresh process (wall ms)',
  median(firstCold),
  peer?.first_cold_ms,
  'libbpf btf__find_by_name_kind, first call',
]);
rows.push([
  'first by-name query, warm code (wall ms)',
  median(firstQuery),
  peer?.first_ms,
  'the same (libbpf: linear scan to sk_buff)',
]);
rows.push([
  'later by-name query (wall ms)',
  median(laterQuery),
  peer?.later_ms,
  'btf__find_by_name_kind net_device (scan)',
]);
rows.push([
  'first query into a name family (wall ms)',
  median(familyQuery),
  peer?.family_ms,
  `btf__find_by_name_kind ${FAMILY_NAME} (scan)`,
]);
rows.push([
  `skb-function discovery (wall ms, ${skbCount} funcs)`,
  median(skb),
  peer?.skb_ms,
  `libbpf type walk (${peer?.skb_funcs ?? '?'} funcs)`,
]);
rows.push(['skb-function discovery (CPU ms)', median(skbCpu), peer?.skb_cpu_ms, 'the same']);
rows.push([
  'retained: blob + index after discovery (MB)',
  retained / 2 ** 20,
  peer ? peer.retained_bytes / 2 ** 20 : undefined,
  'libbpf malloc delta',
]);

// --- dumps vs bpftool ------------------------------------------------------------------------
// Both sides write to /dev/null (a pipe read by node would slow either side down). On a loaded
// machine wall time mostly measures waiting for a CPU, so dumps are compared by CPU time
// (user + system): process.cpuUsage() in-process, the shell's `times` for whole processes.
if (which('bpftool')) {
  const procCpu = (cmd, argv) => () => {
    const r = spawnSync('sh', ['-c', '"$0" "$@" > /dev/null || exit 1; times', cmd, ...argv], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed`);
    const [user, sys] = r.stdout
      .trim()
      .split('\n')[1]
      .split(' ')
      .map((t) => {
        const m = /(\d+)m([\d.]+)s/.exec(t);
        return Number(m[1]) * 60e3 + Number(m[2]) * 1e3;
      });
    return user + sys;
  };
  const inCpu = (f) => () => cpuTime(f);
  const cli = join(here, '../bin/btf-dump.js');
  const rawArgs = ['btf', 'dump', 'file', FILE];
  const cArgs = [...rawArgs, 'format', 'c'];
  const dumpRuns = Math.max(3, Math.min(RUNS, 7));
  for (const [label, ours, theirs, what] of [
    [
      'raw dump, in-process (CPU ms)',
      inCpu(() => formatRaw(Btf.parse(bytes))),
      procCpu('bpftool', rawArgs),
      'bpftool btf dump file F (process)',
    ],
    [
      'C header, in-process (CPU ms)',
      inCpu(() => formatC(Btf.parse(bytes))),
      procCpu('bpftool', cArgs),
      'bpftool ... format c (process)',
    ],
    [
      'raw dump, btf-dump process (CPU ms)',
      procCpu(process.execPath, [cli, FILE]),
      procCpu('bpftool', rawArgs),
      'bpftool btf dump file F (process)',
    ],
    [
      'C header, btf-dump process (CPU ms)',
      procCpu(process.execPath, [cli, FILE, '--format', 'c']),
      procCpu('bpftool', cArgs),
      'bpftool ... format c (process)',
    ],
  ]) {
    const o = [];
    const p = [];
    for (let i = 0; i < dumpRuns; i++) {
      o.push(ours());
      p.push(theirs());
    }
    rows.push([label, median(o), median(p), what]);
  }
} else {
  console.error('bench: bpftool not installed; skipping the dump comparison');
}

console.log(
  `\nbtf-parser benchmark: ${FILE} (${(bytes.byteLength / 2 ** 20).toFixed(1)} MB), median of ${RUNS} runs, node ${process.version}\n`,
);
console.log('| measure | btf-parser | peer | ratio | peer is |');
console.log('|---|---:|---:|---:|---|');
for (const [label, ours, theirs, what] of rows) {
  console.log(`| ${label} | ${fmt(ours)} | ${fmt(theirs)} | ${ratio(ours, theirs)} | ${what} |`);
}
console.log('\nTargets: parse+index within 2x libbpf; skb-function discovery < 50 ms; < 10 MB retained.');
