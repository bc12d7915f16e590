// Kprobe attach/detach benchmark; needs kprobes, so it runs inside the test VM:
//   bash tools/vm/run.sh --timeout 1800 --cwd packages/loader -- node bench/kprobe-vm.mjs [N]
// Attaches one counting kprobe program to N (default 500) kernel functions and detaches, three
// ways in the same boot: bpf-loader-ts attachKprobes (libuv pool, bounded parallelism), a
// serial C loop (perf_event_open + BPF_LINK_CREATE per function, then close), and bpftrace
// (`kprobe:f1,... {}` with `BEGIN { exit() }`: time from its "Attaching" line to exit, i.e.
// attach + detach). Prints a markdown table.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { exit, link, Mov, R0 } from 'bpf-asm-ts';
import { attachKprobes, Program, ProgramType, kprobePmu } from '../dist/index.js';

const N = Number(process.argv[2] ?? 500);
const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

// Candidate functions: traceable, unique in kallsyms, and not the tracer's own hot paths.
const kallsyms = new Map();
for (const line of readFileSync('/proc/kallsyms', 'utf8').split('\n')) {
  const name = line.split(' ')[2];
  if (name) kallsyms.set(name, (kallsyms.get(name) ?? 0) + 1);
}
const candidates = [
  ...new Set(
    readFileSync('/sys/kernel/tracing/available_filter_functions', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[0])
      .filter((n) => n && /^(tcp|udp|ip|inet|sk|skb|neigh|dev|netif|nf|rt|fib|sock)_/.test(n) && kallsyms.get(n) === 1),
  ),
];

const prog = Program.load({ name: 'bench_kp', type: ProgramType.KPROBE, instructions: link([Mov.imm(R0, 0), exit()]) });

// Keep the first N functions that attach at all (some are blacklisted).
const probe = await attachKprobes(prog, candidates.slice(0, N * 2));
const fns = [...probe.attached.keys()].slice(0, N);
await probe.detach();

async function ours(attachConcurrency, detachConcurrency) {
  const t0 = performance.now();
  const set = await attachKprobes(prog, fns, { concurrency: attachConcurrency });
  const t1 = performance.now();
  await set.detach({ concurrency: detachConcurrency });
  const t2 = performance.now();
  return { attach: t1 - t0, detach: t2 - t1, n: set.failures.length ? fns.length - set.failures.length : fns.length };
}

function cLoop() {
  const src = fileURLToPath(new URL('./kprobe-peer.c', import.meta.url));
  const bin = '/tmp/bpf-loader-ts-kprobe-peer';
  execFileSync('gcc', ['-O2', '-o', bin, src, '-lbpf']);
  const list = '/tmp/bpf-loader-ts-kprobe-fns.txt';
  writeFileSync(list, fns.join('\n'));
  const [attach, detach, n] = execFileSync(bin, [String(prog.info().id), String(kprobePmu().type), list], { encoding: 'utf8' }).trim().split(' ').map(Number);
  return { attach, detach, n };
}

function bpftrace() {
  return new Promise((resolve) => {
    const script = `${fns.map((f) => `kprobe:${f}`).join(',')} { } BEGIN { exit(); }`;
    const p = spawn('bpftrace', ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let tAttach;
    let out = '';
    const onData = (d) => {
      out += d;
      if (tAttach === undefined && /Attaching/.test(out)) tAttach = performance.now();
    };
    p.stdout.on('data', onData);
    p.stderr.on('data', onData);
    p.on('exit', (code) => resolve({ total: tAttach === undefined ? NaN : performance.now() - tAttach, code, out: out.slice(0, 300) }));
  });
}

const o1 = await ours(1, 4); // the defaults
const o4 = await ours(4, 4);
const o11 = await ours(1, 1);
const c = cLoop();
const b = await bpftrace();

console.log(`\n## kprobe attach/detach of ${fns.length} functions (${process.env.BPF_TS_VM ? `VM, Linux ${process.env.BPF_TS_VM}, qemu TCG` : 'host'}; one run each)\n`);
console.log('| tool | attach ms | detach ms | attach+detach ms | functions/s attach |');
console.log('|---|---|---|---|---|');
const row = (name, r) => console.log(`| ${name} | ${fmt(r.attach)} | ${fmt(r.detach)} | ${fmt(r.attach + r.detach)} | ${fmt((fns.length / r.attach) * 1000)} |`);
row('bpf-loader-ts attachKprobes (defaults: attach 1, detach 4 in flight)', o1);
row('bpf-loader-ts (attach 4, detach 4 in flight)', o4);
row('bpf-loader-ts (attach 1, detach 1: serial)', o11);
row('C serial loop (perf_event_open + link, then close)', c);
console.log(`| bpftrace ${execFileSync('bpftrace', ['--version'], { encoding: 'utf8' }).trim()} | — | — | ${fmt(b.total)} (Attaching → exit) | — |`);
console.log(`\nRatios (defaults): attach+detach bpftrace / ours = ${fmt(b.total / (o1.attach + o1.detach), 2)}×; C serial / ours = ${fmt((c.attach + c.detach) / (o1.attach + o1.detach), 2)}×; our detach/attach = ${fmt(o1.detach / o1.attach, 2)}.`);
if (b.code !== 0) console.log(`(bpftrace exited with ${b.code}: ${b.out})`);
prog.close();
