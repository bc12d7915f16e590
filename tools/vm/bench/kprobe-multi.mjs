#!/usr/bin/env node
// kprobe-multi attach and detach benchmark, inside the 6.12 test VM (the matrix kernel with
// CONFIG_FPROBE). Run it with `npm run bench:vm:multi` (tools/vm/bench.sh boots the VM); by hand:
//   BPF_TS_VM_KERNEL=6.12 tools/vm/run.sh --timeout 7200 -- node tools/vm/bench/kprobe-multi.mjs [--repeat 3]
//     [--bpftrace-repeat 1] [--tools libbpf,loader,pwru,bpftrace] [--limit N]
//
// The functions: pwru's full default set on this kernel (BTF functions taking a struct sk_buff *
// at positions 1–5 that available_filter_functions lists; pwru's own discovery code). In ONE boot,
// interleaved per repetition, each tool attaches them all and detaches:
//   - bpf-loader-ts: attachKprobeMulti(prog, { symbols }) then link.close(), timed in-process;
//   - pwru (default backend = kprobe-multi here; one link, the skb position in each cookie): from
//     its "Attaching" log line to its "Attached" line; detach from SIGINT until it has exited
//     (and, beside it, until its functions are no longer enabled);
//   - bpftrace `kprobe:f1,kprobe:f2,... {}`: from its "Attaching" line until every function is
//     enabled; detach from SIGINT until none is and it has exited. The mode it used is reported:
//     kprobes in /sys/kernel/debug/kprobes/list mean one kprobe per function, none mean kprobe-multi;
//   - the floor: a C program using libbpf's bpf_program__attach_kprobe_multi_opts on the same
//     symbol list, then bpf_link__destroy, timed in-process (gcc, clang and libbpf-dev, bench only).
// An independent observer, the line count of tracefs enabled_functions (every function with an
// ftrace callback: fprobe and ftrace-based kprobes alike), checks that each tool really attached
// every function and left none behind. Prints a markdown table of medians.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { log, median, spawnTimed, until } from './common.mjs';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const here = fileURLToPath(new URL('.', import.meta.url));
const { exit: bpfExit, link, Mov, R0 } = await import(join(repo, 'packages/asm/dist/index.js'));
const { attachKprobeMulti, AttachType, mountTracefs, Program, ProgramType } = await import(
  join(repo, 'packages/loader/dist/index.js')
);
const { Btf } = await import(join(repo, 'packages/btf/dist/index.js'));
const { discoverSkbFunctions, readAvailableFilterFunctions } = await import(
  join(repo, 'packages/pwru/dist/internal.js')
);

const { values: args } = parseArgs({
  options: {
    repeat: { type: 'string', default: '3' },
    // bpftrace attaches one kprobe per function and removes them one by one: minutes per run
    // under TCG, so it runs fewer times (after the others).
    'bpftrace-repeat': { type: 'string', default: '1' },
    tools: { type: 'string', default: 'libbpf,loader,pwru,bpftrace' },
    // A quick check of the harness: only the first N functions (pwru is then given the same list).
    limit: { type: 'string', default: '0' },
  },
});
const tools = args.tools.split(',');
const PWRU = join(repo, 'packages/pwru/bin/pwru.js');
const NO_MATCH = 'host 10.254.254.254';
const fmtS = (ms) => (Number.isFinite(ms) ? (ms / 1000).toFixed(2) : 'n/a');
const fmtX = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a');

const tracefs = mountTracefs().path;
if (!existsSync('/sys/kernel/debug/kprobes')) execFileSync('mount', ['-t', 'debugfs', 'debugfs', '/sys/kernel/debug']);
const ENABLED = `${tracefs}/enabled_functions`;
const KPROBES_LIST = '/sys/kernel/debug/kprobes/list';
const enabledCount = () => readFileSync(ENABLED, 'utf8').split('\n').filter(Boolean).length;
const kprobeCount = () =>
  existsSync(KPROBES_LIST) ? readFileSync(KPROBES_LIST, 'utf8').split('\n').filter(Boolean).length : 0;

// A kprobe-multi program; if the kernel refuses the link, there is nothing to measure.
const prog = Program.load({
  name: 'bench_multi',
  type: ProgramType.KPROBE,
  expectedAttachType: AttachType.TRACE_KPROBE_MULTI,
  license: 'GPL',
  instructions: link([Mov.imm(R0, 0), bpfExit()]),
});
try {
  attachKprobeMulti(prog, { symbols: ['kfree_skbmem'] }).close();
} catch (e) {
  console.log(
    `kprobe-multi benchmark skipped: ${e.message.split('\n')[0]} (run it in the 6.12 VM: npm run bench:vm:multi)`,
  );
  process.exit(0);
}

// pwru's full default set: what its own discovery selects on this kernel (vmlinux only).
const btf = Btf.parse(new Uint8Array(readFileSync('/sys/kernel/btf/vmlinux')));
const attachable = readAvailableFilterFunctions();
let fns = [...new Set(discoverSkbFunctions(btf, [], () => true, attachable).map((f) => f.name))];
if (Number(args.limit) > 0) fns = fns.slice(0, Number(args.limit));
const work = mkdtempSync(join(tmpdir(), 'kprobe-multi-bench-'));
const symFile = join(work, 'symbols.txt');
writeFileSync(symFile, fns.join('\n') + '\n');
log(`${fns.length} functions (pwru's default set${Number(args.limit) > 0 ? `, first ${args.limit}` : ''})`);

const baseline = enabledCount();
const kprobeBaseline = kprobeCount();

/** Fails unless the observer is back at its baseline (nothing left behind). */
function checkClean(tool) {
  const left = enabledCount() - baseline;
  if (left !== 0) throw new Error(`${tool} left ${left} functions enabled`);
}

async function runLoader() {
  const t0 = performance.now();
  const l = attachKprobeMulti(prog, { symbols: fns });
  const t1 = performance.now();
  const n = enabledCount() - baseline;
  l.close();
  const t2 = performance.now();
  checkClean('bpf-loader-ts');
  return { attach: t1 - t0, detach: t2 - t1, n };
}

const bpfObj = join(work, 'kprobe-multi.bpf.o');
const floorBin = join(work, 'kprobe-multi-floor');
function buildFloor() {
  if (existsSync(floorBin)) return;
  execFileSync('clang', [
    '-O2',
    '-target',
    'bpf',
    '-I/usr/include/x86_64-linux-gnu',
    '-c',
    join(here, 'kprobe-multi.bpf.c'),
    '-o',
    bpfObj,
  ]);
  execFileSync('gcc', ['-O2', '-o', floorBin, join(here, 'kprobe-multi-floor.c'), '-lbpf']);
}

async function runLibbpf() {
  buildFloor();
  const [attach, detach, n] = execFileSync(floorBin, [bpfObj, symFile], { encoding: 'utf8' })
    .trim()
    .split(' ')
    .map(Number);
  checkClean('libbpf');
  return { attach, detach, n };
}

async function runPwru() {
  const argv = [PWRU, ...(Number(args.limit) > 0 ? ['--filter-func', `^(${fns.join('|')})$`] : []), NO_MATCH];
  const p = spawnTimed(process.execPath, argv);
  const t0 = await p.line(/Attaching/);
  const t1 = await p.line(/INFO Attached/);
  const via = /via=([\w-]+)/.exec(p.lines.find((x) => /Attaching/.test(x.l)).l)?.[1];
  const n = enabledCount() - baseline;
  const tS = performance.now();
  p.child.kill('SIGINT');
  // Probes gone (what the traced machine feels) and process exited, observed side by side.
  const gone = until(() => enabledCount() === baseline, 10, 60_000);
  const e = await p.exited;
  if (e.code !== 0)
    throw new Error(
      `pwru exited with ${e.code ?? e.signal}:\n${p.lines
        .slice(-8)
        .map((x) => x.l)
        .join('\n')}`,
    );
  const tGone = await gone;
  return { attach: t1 - t0, detach: Math.max(e.t, tGone) - tS, gone: tGone - tS, n, mode: via };
}

async function runBpftrace() {
  const script = `${fns.map((f) => `kprobe:${f}`).join(',')} { }`;
  const p = spawnTimed('bpftrace', ['-B', 'line', '-e', script], { BPFTRACE_MAX_PROBES: String(fns.length + 10) });
  const t0 = await p.line(/Attaching \d+ probe/);
  let dead = false;
  void p.exited.then(() => (dead = true));
  // Done when every function is enabled (as ftrace callbacks or as kprobes), or — when bpftrace
  // skips a few it cannot probe — when the count has not grown for 20 s: attach ends at its last
  // increase.
  let lastLog = performance.now();
  let last = -1;
  let lastChange = performance.now();
  await until(() => {
    if (dead) return true;
    const enabled = Math.max(enabledCount() - baseline, kprobeCount() - kprobeBaseline);
    const now = performance.now();
    if (enabled !== last) (last = enabled), (lastChange = now);
    if (now - lastLog > 60_000) (lastLog = now), log(`  bpftrace: ${enabled} functions enabled`);
    return enabled >= fns.length || (enabled > 0 && now - lastChange > 20_000);
  });
  const t1 = lastChange;
  if (dead)
    throw new Error(
      `bpftrace exited while attaching:\n${p.lines
        .slice(-5)
        .map((x) => x.l)
        .join('\n')}`,
    );
  const n = enabledCount() - baseline;
  const kprobes = kprobeCount() - kprobeBaseline;
  const tS = performance.now();
  p.child.kill('SIGINT');
  const tGone = await until(() => enabledCount() === baseline && kprobeCount() === kprobeBaseline, 20);
  const e = await p.exited;
  return {
    attach: t1 - t0,
    detach: Math.max(tGone, e.t) - tS,
    n,
    mode: kprobes > 0 ? `one kprobe per function (${kprobes})` : 'kprobe-multi',
  };
}

const runners = {
  libbpf: { name: 'C + libbpf `bpf_program__attach_kprobe_multi_opts` (the floor)', run: runLibbpf },
  loader: { name: 'bpf-loader-ts `attachKprobeMulti` / `close()`', run: runLoader },
  pwru: { name: 'pwru (default backend)', run: runPwru },
  bpftrace: {
    name: `bpftrace ${execFileSync('bpftrace', ['--version'], { encoding: 'utf8' })
      .trim()
      .replace(/^bpftrace /, '')}`,
    run: runBpftrace,
  },
};

const per = Object.fromEntries(tools.map((t) => [t, []]));
const reps = Number(args.repeat);
const repsOf = (t) => (t === 'bpftrace' ? Number(args['bpftrace-repeat']) : reps);
// The quick tools interleaved first, then bpftrace (its runs take minutes), so that a bpftrace
// failure or time-out never costs the other rows.
const schedule = [];
for (let r = 0; r < reps; r++) for (const t of tools) if (t !== 'bpftrace') schedule.push([t, r]);
if (tools.includes('bpftrace')) for (let r = 0; r < repsOf('bpftrace'); r++) schedule.push(['bpftrace', r]);
for (const [t, r] of schedule) {
  log(`${t} (run ${r + 1}/${repsOf(t)})`);
  try {
    const x = await runners[t].run();
    log(
      `  attach ${fmtS(x.attach)} s, detach ${fmtS(x.detach)} s, ${x.n} functions enabled${x.mode ? `, ${x.mode}` : ''}`,
    );
    per[t].push(x);
  } catch (e) {
    log(`  failed: ${e.message}`);
  }
}

const med = (t, k) => median(per[t]?.map((x) => x[k]) ?? []);
const floorA = med('libbpf', 'attach');
const bRate = med('bpftrace', 'n') / med('bpftrace', 'attach');
console.log(
  `\n### kprobe-multi attach and detach of pwru's full set (Linux ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()} in qemu TCG, ${fns.length} functions; medians of ${reps} runs, bpftrace ${args['bpftrace-repeat']})\n`,
);
console.log(
  '| tool | mode | runs | functions enabled | attach s | detach s | attach vs libbpf floor | attach rate vs bpftrace | detach / attach |',
);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const t of tools) {
  if (per[t].length === 0) continue;
  const a = med(t, 'attach');
  const d = med(t, 'detach');
  const rate = med(t, 'n') / a;
  const mode = per[t][0].mode ?? 'kprobe-multi (one link)';
  const gone = med(t, 'gone');
  const detach = Number.isFinite(gone) ? `${fmtS(d)} (probes gone after ${fmtS(gone)})` : fmtS(d);
  console.log(
    `| ${runners[t].name} | ${mode} | ${per[t].length} | ${med(t, 'n')} | ${fmtS(a)} | ${detach} | ${fmtX(a / floorA)} | ${fmtX(rate / bRate)} | ${fmtX(d / a)} |`,
  );
}
console.log(
  '\n"attach vs libbpf floor" and "detach / attach": lower is faster; "attach rate vs bpftrace": higher is faster.',
);
prog.close();
rmSync(work, { recursive: true, force: true });
