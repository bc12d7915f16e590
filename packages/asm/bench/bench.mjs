#!/usr/bin/env node
// Benchmarks of bpf-asm-ts, run after `npm run build`: `node bench/bench.mjs` from packages/asm.
// Prints a markdown table. In-process rows time encode/decode of a 1,000,000-instruction
// program; whole-process rows run our CLI and llvm-mc-19 on the same input side by side.
// Medians of several runs; machines are noisy, compare ratios within one run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import {
  Add,
  And,
  Atomic,
  call,
  decode,
  encode,
  exit,
  Ja,
  JEq,
  JGT,
  JSLT,
  LoadImm64,
  LoadMem,
  LSh,
  Mov,
  print,
  RSh,
  StoreImm,
  StoreMem,
  Xor,
  R0,
  R1,
  R2,
  R3,
  R4,
  R6,
  R10,
} from '../dist/index.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const PROGRAM_SIZE = 1_000_000;
const TEXT_SIZE = Number(process.env.BENCH_TEXT_SIZE ?? 200_000);
const LLVM_MC = process.env.LLVM_MC ?? '/usr/bin/llvm-mc-19';
const pkg = fileURLToPath(new URL('..', import.meta.url));
const cli = join(pkg, 'bin/bpf-asm.js');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmtRate = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M/s` : `${(n / 1e3).toFixed(1)} k/s`);
const fmtMs = (ms) => `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;

/** A realistic mix: ALU, memory, atomics, LD_IMM64, helper calls, and jumps to nearby labels. */
function program(n) {
  const insns = [];
  let i = 0;
  for (; insns.length + 16 < n; i++) {
    const block = [
      Mov.imm(R0, i & 0xffff).withSymbol(`L${i}`),
      LoadMem(R1, R6, (i % 64) * 4, 'u32'),
      Add.reg(R1, R2),
      LSh.imm(R1, 3),
      RSh.imm32(R3, 2),
      And.imm(R1, 0xff),
      Xor.reg32(R4, R1),
      StoreMem(R10, -8, R1, 'u64'),
      StoreImm(R10, -16, i, 'u32'),
      LoadImm64(R2, BigInt(i) * 0x100000001n),
      Atomic.fetchAdd(R10, -8, R1, 'u64'),
      JEq.imm(R1, 7, `L${i + 1}`),
      JGT.reg(R1, R2, `L${i + 1}`),
      JSLT.imm(R3, -1, `L${Math.max(0, i - 1)}`),
      call((i % 200) + 1),
      i % 5 === 0 ? Ja(`L${i + 1}`) : Mov.reg(R6, R1),
    ];
    insns.push(...block);
  }
  while (insns.length < n - 1) insns.push(Add.imm(R0, 1));
  insns.push(exit().withSymbol(`L${i}`)); // target of the last block's forward jumps
  return insns;
}

/** Median wall and CPU time (ms) of `fn` in this process, after one warm-up run. */
function timeInProcess(fn) {
  fn(); // warm up
  const walls = [];
  const cpus = [];
  for (let r = 0; r < RUNS; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    walls.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1000);
  }
  return { wall: median(walls), cpu: median(cpus) };
}

/** CPU time (ms) used so far by waited-for children of this process, from /proc/self/stat (Linux). */
function childrenCpuMs() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLOCK_TICKS; // cutime + cstime
  } catch {
    return Number.NaN;
  }
}
const CLOCK_TICKS = 100; // USER_HZ on Linux

function runOnce(cmd, args) {
  const cpu0 = childrenCpuMs();
  const t0 = performance.now();
  const res = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 30 });
  const wall = performance.now() - t0;
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${res.stderr}`);
  return { wall, cpu: childrenCpuMs() - cpu0 };
}

/**
 * Median wall and CPU time of each command, runs interleaved (A B A B ...) so load changes hit
 * both alike. CPU time (user + system) is the steadier number on a shared machine.
 */
function timeProcesses(...commands) {
  const times = commands.map(() => []);
  for (let r = 0; r < RUNS; r++) commands.forEach(([cmd, args], i) => times[i].push(runOnce(cmd, args)));
  return times.map((ts) => ({ wall: median(ts.map((t) => t.wall)), cpu: median(ts.map((t) => t.cpu)) }));
}

const rows = [];
const { link } = await import('../dist/index.js');

// 1. In-process encode/decode of a 1M-instruction program (resolved by link first).
const big = link(program(PROGRAM_SIZE)).instructions;
let bytes;
const enc = timeInProcess(() => (bytes = encode(big)));
const dec = timeInProcess(() => decode(bytes));
for (const [what, t] of [
  ['encode', enc],
  ['decode', dec],
]) {
  rows.push([
    `${what} 1,000,000 instructions (in process)`,
    `${fmtMs(t.wall)} (${fmtMs(t.cpu)} CPU)`,
    fmtRate(PROGRAM_SIZE / (t.wall / 1000)),
    '—',
    '—',
    '—',
  ]);
}

// 2. Whole-process text assembly and disassembly against llvm-mc on the same input.
const dir = mkdtempSync(join(tmpdir(), 'bpf-asm-bench-'));
try {
  const textProgram = program(TEXT_SIZE);
  const source = `\t.text\n${print(textProgram)}`;
  const sFile = join(dir, 'big.s');
  writeFileSync(sFile, source);
  const linkedText = link(textProgram);
  const binFile = join(dir, 'big.bin');
  writeFileSync(binFile, linkedText.encode());
  const hexFile = join(dir, 'big.txt');
  const enc = linkedText.encode();
  const hexLines = [];
  for (let o = 0; o < enc.length; o += 8)
    hexLines.push(Array.from(enc.subarray(o, o + 8), (b) => `0x${b.toString(16).padStart(2, '0')}`).join(' '));
  writeFileSync(hexFile, `${hexLines.join('\n')}\n`);
  const n = TEXT_SIZE;
  const haveLlvm = existsSync(LLVM_MC);
  if (haveLlvm) {
    // Same bytes? llvm-mc's object .text must equal our encoding of the file.
    const obj = join(dir, 'big.o');
    execFileSync(LLVM_MC, ['-triple', 'bpfel', '-mcpu=v4', '-filetype=obj', sFile, '-o', obj]);
    const objcopy = LLVM_MC.replace(/llvm-mc(-\d+)?$/, 'llvm-objcopy$1');
    if (existsSync(objcopy)) {
      const objText = join(dir, 'big.llvm.bin');
      execFileSync(objcopy, ['-O', 'binary', '-j', '.text', obj, objText]);
      const ours = join(dir, 'big.ours.bin');
      execFileSync(process.execPath, [cli, 'asm', sFile, '-o', ours]);
      if (!readFileSync(ours).equals(readFileSync(objText)))
        throw new Error('our encoding of the benchmark file differs from llvm-mc');
    }
  }
  const ourAsm = [process.execPath, [cli, 'asm', sFile, '-o', join(dir, 'out.bin')]];
  const ourDis = [process.execPath, [cli, 'disasm', binFile]];
  const row = (what, ours, peer) => [
    what,
    `${fmtMs(ours.wall)} (${fmtMs(ours.cpu)} CPU)`,
    fmtRate(n / (ours.wall / 1000)),
    peer ? `${fmtMs(peer.wall)} (${fmtMs(peer.cpu)} CPU)` : `${LLVM_MC} not installed`,
    peer ? fmtRate(n / (peer.wall / 1000)) : '—',
    peer ? `${(peer.wall / ours.wall).toFixed(2)}× wall, ${(peer.cpu / ours.cpu).toFixed(2)}× CPU` : '—',
  ];
  const what = [
    `assemble ${n.toLocaleString('en')}-line file (whole process)`,
    `disassemble ${n.toLocaleString('en')} instructions (whole process)`,
  ];
  if (haveLlvm) {
    const [asmOurs, asmLlvm] = timeProcesses(ourAsm, [
      LLVM_MC,
      ['-triple', 'bpfel', '-mcpu=v4', '-filetype=obj', sFile, '-o', join(dir, 'out.o')],
    ]);
    const [disOurs, disLlvm] = timeProcesses(ourDis, [
      LLVM_MC,
      ['-triple', 'bpfel', '-mcpu=v4', '-disassemble', hexFile],
    ]);
    rows.push(row(what[0], asmOurs, asmLlvm), row(what[1], disOurs, disLlvm));
  } else {
    const [asmOurs, disOurs] = timeProcesses(ourAsm, ourDis);
    rows.push(row(what[0], asmOurs), row(what[1], disOurs));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `## bpf-asm-ts (median of ${RUNS} runs, Node ${process.versions.node}, ${cpus().length} CPUs, load average ${loadavg()[0].toFixed(1)} at the end)\n`,
);
console.log(
  '| benchmark | bpf-asm-ts | instructions/s | llvm-mc-19 | instructions/s | llvm-mc time / ours (>1: we are faster) |',
);
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log(
  '\nllvm-mc assembles to an ELF object (-filetype=obj); its disassembler reads hex bytes. Both are checked to produce the same bytes as ours.',
);
