#!/usr/bin/env node
// Kprobe attach/detach and memory benchmark, inside the kprobe-capable test VM (kprobes exist
// only there). Run it with `npm run bench:vm` (tools/vm/bench.sh boots the VM); by hand:
//   tools/vm/run.sh --timeout 7200 -- node tools/vm/bench/kprobes.mjs [--sizes 500,full] [--repeat 3]
//     [--full-repeat 1] [--tools loader,loader-expedited,pwru,pwru-expedited,bpftrace,c]
//     [--full-tools loader,pwru,pwru-expedited,bpftrace,c] [--pwru-filter REGEX]
// (npm run bench:vm -- --repeat 1 passes options through tools/vm/bench.sh.)
//
// In ONE boot, for the same functions each time, side by side and interleaved per repetition:
//   - bpf-loader-ts attachKprobes + KprobeSet.detach (in-process timing), by default and with
//     its opt-in expedited-RCU detach (detach({ expediteRcu: true }));
//   - pwru --backend kprobe (from its "Attaching kprobes" log line to its "Attached" line; detach
//     from SIGINT until it exits), by default and with PWRU_DETACH_EXPEDITE_RCU=1;
//   - bpftrace attaching the same functions (`kprobe:a,kprobe:b,... {}`): it prints "Attaching N
//     probes..." and nothing when done, so an independent observer polls the line count of
//     /sys/kernel/debug/kprobes/list until it reaches the baseline + N; detach from SIGINT until
//     the count is back at the baseline and bpftrace has exited;
//   - a bench-only C loop (gcc, kprobe-loop.c): perf_event_open + BPF_LINK_CREATE per function,
//     serially, then close all (in-process timing).
// The full set is the functions pwru itself attaches on this kernel (read back from
// kprobes/list after a first pwru run); "500" is the first 500 of them.
// Memory: pwru's RSS while it traces loopback UDP with the full set attached (sampled every
// 100 ms) and its peak (VmHWM), beside bpftrace holding the same probes (sampled once).
// Prints markdown tables of medians. Numbers are not assertions: TCG is slow and noisy.
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { log, median, sleep, spawnTimed, until } from './common.mjs';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const { exit: bpfExit, link, Mov, R0 } = await import(join(repo, 'packages/asm/dist/index.js'));
const { attachKprobes, Program, ProgramType, kprobePmu } = await import(join(repo, 'packages/loader/dist/index.js'));

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '500,full' },
    repeat: { type: 'string', default: '3' },
    'full-repeat': { type: 'string', default: '1' },
    tools: { type: 'string', default: 'loader,loader-expedited,pwru,pwru-expedited,bpftrace,c' },
    // For a quick check of the harness: restrict pwru's full set (its --filter-func).
    'pwru-filter': { type: 'string', default: '' },
    // Tools for the full set (fewer by default: each full-set run takes minutes under TCG).
    'full-tools': { type: 'string', default: 'loader,pwru,pwru-expedited,bpftrace,c' },
  },
});
const tools = args.tools.split(',');

const KPROBES_LIST = '/sys/kernel/debug/kprobes/list';
const PWRU = join(repo, 'packages/pwru/bin/pwru.js');
const NO_MATCH = 'host 10.254.254.254';
const fmtS = (ms) => (Number.isFinite(ms) ? (ms / 1000).toFixed(1) : 'n/a');
const fmtX = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a');

if (!existsSync('/sys/bus/event_source/devices/kprobe/type')) {
  console.log('kprobe benchmark skipped: this kernel has no kprobe PMU (run it in the VM: npm run bench:vm)');
  process.exit(0);
}
if (!existsSync(KPROBES_LIST)) execFileSync('mount', ['-t', 'debugfs', 'debugfs', '/sys/kernel/debug']);
const work = mkdtempSync(join(tmpdir(), 'kprobe-bench-'));

/** The symbols currently in kprobes/list (one per registered kprobe). */
function kprobeSymbols() {
  const out = [];
  for (const line of readFileSync(KPROBES_LIST, 'utf8').split('\n')) {
    const m = /\s[kr]\s+([^\s+]+)\+0x/.exec(line);
    if (m) out.push(m[1]);
  }
  return out;
}
const kprobeCount = () => readFileSync(KPROBES_LIST, 'utf8').split('\n').filter(Boolean).length;

/** VmRSS and VmHWM of a process, in MB. */
function memory(pid) {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** Sends UDP datagrams to 127.0.0.1:port every 10 ms for `ms`, sampling `pid`'s RSS meanwhile. */
async function trafficAndSample(pid, port, ms) {
  const sock = createSocket('udp4');
  let maxRss = 0;
  const end = performance.now() + ms;
  let i = 0;
  while (performance.now() < end) {
    sock.send('bench', port, '127.0.0.1');
    if (i++ % 10 === 0) maxRss = Math.max(maxRss, memory(pid).rss);
    await sleep(10);
  }
  sock.close();
  return { maxRss, ...memory(pid) };
}

// One trivial kprobe program for the library and C runs.
const prog = Program.load({
  name: 'bench_kp',
  type: ProgramType.KPROBE,
  instructions: link([Mov.imm(R0, 0), bpfExit()]),
});
const cLoop = join(work, 'kprobe-loop');
if (tools.includes('c'))
  execFileSync('gcc', ['-O2', '-o', cLoop, fileURLToPath(new URL('./kprobe-loop.c', import.meta.url))]);

const baseline = kprobeCount();

/** bpf-loader-ts: attachKprobes then KprobeSet.detach, timed in-process. */
async function runLoader(fns, detachOpts = {}) {
  const t0 = performance.now();
  const set = await attachKprobes(prog, fns);
  const t1 = performance.now();
  const n = set.size;
  await set.detach(detachOpts);
  const t2 = performance.now();
  if (kprobeCount() !== baseline) throw new Error('bpf-loader-ts left kprobes behind');
  return { attach: t1 - t0, detach: t2 - t1, n };
}

/** The C loop, timed in-process. */
function runC(fns) {
  const list = join(work, 'fns.txt');
  writeFileSync(list, fns.join('\n'));
  const [attach, detach, n] = execFileSync(cLoop, [String(prog.info().id), String(kprobePmu().type), list], {
    encoding: 'utf8',
  })
    .trim()
    .split(' ')
    .map(Number);
  return { attach, detach, n };
}

/**
 * pwru --backend kprobe: attach from "Attaching kprobes" to "Attached" (its log lines); detach
 * from SIGINT until exit. With `fns` undefined it attaches its full set; `traffic` traces loopback
 * UDP for that long first and samples RSS.
 */
async function runPwru(fns, { traffic = 0, expedite = false } = {}) {
  const port = 9999;
  const argv = [PWRU, '--backend', 'kprobe'];
  if (fns) argv.push('--filter-func', `^(${fns.join('|')})$`);
  else if (args['pwru-filter']) argv.push('--filter-func', args['pwru-filter']);
  argv.push(traffic ? `udp and dst port ${port} and host 127.0.0.1` : NO_MATCH);
  const p = spawnTimed(process.execPath, argv, expedite ? { PWRU_DETACH_EXPEDITE_RCU: '1' } : {});
  const t0 = await p.line(/Attaching kprobes/);
  const t1 = await p.line(/INFO Attached/);
  const n = kprobeCount() - baseline;
  const symbols = kprobeSymbols();
  const mem = traffic ? await trafficAndSample(p.child.pid, port, traffic) : undefined;
  const tS = performance.now();
  p.child.kill('SIGINT');
  const e = await p.exited;
  const left = kprobeCount() - baseline;
  if (e.code !== 0 || left !== 0)
    throw new Error(
      `pwru exited with ${e.code ?? e.signal}, ${left} kprobes left:\n${p.lines
        .slice(-8)
        .map((x) => x.l)
        .join('\n')}`,
    );
  return { attach: t1 - t0, detach: e.t - tS, n, symbols, mem };
}

/**
 * bpftrace on the same functions: attach from its "Attaching N probes" line until kprobes/list
 * holds N more entries; detach from SIGINT until the count is back and it has exited.
 */
async function runBpftrace(fns, sampleMs = 0) {
  const script = `${fns.map((f) => `kprobe:${f}`).join(',')} { }`;
  // -B line: its "Attaching" line is flushed when printed, not at exit.
  const p = spawnTimed('bpftrace', ['-B', 'line', '-e', script], { BPFTRACE_MAX_PROBES: String(fns.length + 10) });
  const t0 = await p.line(/Attaching \d+ probe/);
  const want = Number(/Attaching (\d+) probe/.exec(p.lines.find((x) => /Attaching \d+ probe/.test(x.l)).l)[1]);
  let dead = false;
  void p.exited.then(() => (dead = true));
  const t1 = await until(() => dead || kprobeCount() - baseline >= want, 50, 20 * 60_000);
  if (dead)
    throw new Error(
      `bpftrace exited while attaching:\n${p.lines
        .slice(-5)
        .map((x) => x.l)
        .join('\n')}`,
    );
  const n = kprobeCount() - baseline;
  let mem;
  if (sampleMs) {
    await sleep(sampleMs);
    mem = memory(p.child.pid);
  }
  const tS = performance.now();
  p.child.kill('SIGINT');
  // Once bpftrace has exited, its kprobes must be gone within a minute; never wait forever.
  let exitedAt = Infinity;
  void p.exited.then(() => (exitedAt = performance.now()));
  const tGone = await until(
    () => {
      if (kprobeCount() === baseline) return true;
      if (performance.now() - exitedAt > 60_000)
        throw new Error(`bpftrace exited leaving ${kprobeCount() - baseline} kprobes`);
      return false;
    },
    50,
    20 * 60_000,
  );
  const e = await p.exited;
  return { attach: t1 - t0, detach: Math.max(tGone, e.t) - tS, n, mem };
}

// The full function set: what pwru attaches on this kernel. This first run also measures pwru's
// memory while it traces loopback UDP for 5 s (after "Attached", so its timings stand too).
log('pwru --backend kprobe, full set, to learn its functions and measure its memory while tracing');
const first = await runPwru(undefined, { traffic: 5000 });
const full = [...new Set(first.symbols)];
const memPwru = first.mem;
log(`pwru attached ${full.length} functions in ${fmtS(first.attach)} s, detached in ${fmtS(first.detach)} s`);
let memBpftrace;
const sets = args.sizes
  .split(',')
  .map((s) =>
    s === 'full'
      ? { label: `${full.length} (pwru's full set)`, fns: full, full: true }
      : { label: s, fns: full.slice(0, Number(s)), full: false },
  );

const runners = {
  loader: { name: 'bpf-loader-ts attachKprobes / detach()', run: (fns) => runLoader(fns) },
  'loader-expedited': {
    name: 'bpf-loader-ts detach({ expediteRcu: true })',
    run: (fns) => runLoader(fns, { expediteRcu: true }),
  },
  pwru: { name: 'pwru --backend kprobe', run: (fns, s) => runPwru(s.full ? undefined : fns) },
  'pwru-expedited': {
    name: 'pwru, PWRU_DETACH_EXPEDITE_RCU=1',
    run: (fns, s) => runPwru(s.full ? undefined : fns, { expedite: true }),
  },
  bpftrace: {
    name: `bpftrace ${execFileSync('bpftrace', ['--version'], { encoding: 'utf8' })
      .trim()
      .replace(/^bpftrace /, '')}`,
    // With the full set held, sample its memory once (2 s after attaching, before SIGINT).
    run: async (fns, s) => {
      const x = await runBpftrace(fns, s.full && !memBpftrace ? 2000 : 0);
      if (x.mem) memBpftrace = x.mem;
      return x;
    },
  },
  c: { name: 'C loop (perf_event_open + link, serial)', run: (fns) => runC(fns) },
};

/** Prints one function set's rows (medians), as soon as that set is done. */
function printRows({ s, per }) {
  const med = (t, k) => median(per[t]?.map((x) => x[k]) ?? []);
  const bRate = med('bpftrace', 'n') / med('bpftrace', 'attach');
  const bDetach = med('bpftrace', 'detach');
  for (const t of tools) {
    if (per[t].length === 0) continue;
    const a = med(t, 'attach');
    const d = med(t, 'detach');
    const rate = (med(t, 'n') / a) * 1000;
    console.log(
      `| ${s.label} | ${runners[t].name} | ${per[t].length} | ${med(t, 'n')} | ${fmtS(a)} | ${fmtS(d)} | ${Number.isFinite(rate) ? rate.toFixed(1) : 'n/a'} | ${fmtX(rate / (bRate * 1000))} | ${fmtX(d / bDetach)} | ${fmtX(d / a)} |`,
    );
  }
}

console.log(
  `\n### kprobe attach and detach (Linux ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()} in qemu TCG, ${process.env.BPF_TS_VM_SMP ?? 2} vCPUs; medians)\n`,
);
console.log(
  '| functions | tool | runs | probes | attach s | detach s | attach rate /s | attach rate vs bpftrace | detach vs bpftrace | detach / attach |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const s of sets) {
  const reps = s.full ? Number(args['full-repeat']) : Number(args.repeat);
  const per = Object.fromEntries(tools.map((t) => [t, []]));
  const these = s.full ? tools.filter((t) => args['full-tools'].split(',').includes(t)) : tools;
  for (let r = 0; r < reps; r++) {
    for (const t of these) {
      log(`${s.label}: ${t} (run ${r + 1}/${reps})`);
      try {
        const x = await runners[t].run(s.fns, s);
        log(`  attach ${fmtS(x.attach)} s, detach ${fmtS(x.detach)} s, ${x.n} probes`);
        per[t].push(x);
      } catch (e) {
        log(`  failed: ${e.message}`);
      }
    }
  }
  printRows({ s, per });
}
console.log(
  '\n"attach rate vs bpftrace": higher is faster; "detach vs bpftrace" and "detach / attach": lower is faster.',
);
console.log('\n### memory with the full set attached\n');
console.log('| process | RSS while tracing MB (max of 100 ms samples) | peak RSS (VmHWM) MB |');
console.log('|---|---|---|');
if (memPwru)
  console.log(
    `| pwru --backend kprobe, ${full.length} functions, tracing loopback UDP 5 s | ${memPwru.maxRss.toFixed(0)} | ${memPwru.hwm.toFixed(0)} |`,
  );
if (memBpftrace)
  console.log(
    `| bpftrace, the same ${full.length} kprobes | ${memBpftrace.rss.toFixed(0)} | ${memBpftrace.hwm.toFixed(0)} |`,
  );
if (memPwru && memBpftrace) console.log(`\npwru's peak RSS is ${fmtX(memPwru.hwm / memBpftrace.hwm)} bpftrace's.`);
prog.close();
rmSync(work, { recursive: true, force: true });
