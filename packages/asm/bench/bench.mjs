#!/usr/bin/env node
// Benchmarks of bpf-asm-ts, run after `npm run build`: `node bench/bench.mjs` from packages/asm.
// Prints a markdown table. In-process rows time encode/decode of a 1,000,000-instruction
// program; whole-process rows run our CLI and llvm-mc-19 on the same input side by side.
// Medians of several runs; machines are noisy, compare ratios within one run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import {
  Add, And, Atomic, call, decode, encode, exit, Ja, JEq, JGT, JSLT, LoadImm64, LoadMem, LSh, Mov, print, RSh,
  StoreImm, StoreMem, Xor, R0, R1, R2, R3, R4, R6, R10,
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
      call(i % 200 + 1),
      i % 5 === 0 ? Ja(`L${i + 1}`) : Mov.reg(R6, R1),
    ];
    insns.push(...block);
  }
  while (insns.length < n - 1) insns.push(Add.imm(R0, 1));
  insns.push(exit().withSymbol(`L${i}`)); // target of the last block's forward jumps
  return insns;
}

function timeInProcess(fn) {
  fn(); // warm up
  const times = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

function timeProcess(cmd, args) {
  const times = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    const res = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 30 });
    times.push(performance.now() - t0);
    if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${res.stderr}`);
  }
  return median(times);
}

const rows = [];
const { link } = await import('../dist/index.js');

// 1. In-process encode/decode of a 1M-instruction program (resolved by link first).
const big = link(program(PROGRAM_SIZE)).instructions;
let bytes;
const encMs = timeInProcess(() => (bytes = encode(big)));
const decMs = timeInProcess(() => decode(bytes));
rows.push(['encode 1,000,000 instructions (in process)', fmtMs(encMs), fmtRate(PROGRAM_SIZE / (encMs / 1000)), '—', '—', '—']);
rows.push(['decode 1,000,000 instructions (in process)', fmtMs(decMs), fmtRate(PROGRAM_SIZE / (decMs / 1000)), '—', '—', '—']);

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
  for (let o = 0; o < enc.length; o += 8) hexLines.push(Array.from(enc.subarray(o, o + 8), (b) => `0x${b.toString(16).padStart(2, '0')}`).join(' '));
  writeFileSync(hexFile, `${hexLines.join('\n')}\n`);
  const n = TEXT_SIZE;
  const haveLlvm = existsSync(LLVM_MC);
  if (haveLlvm) {
    // Same bytes? llvm-mc's object .text must equal our encoding of the file.
    const obj = join(dir, 'big.o');
    execFileSync(LLVM_MC, ['-triple', 'bpfel', '-mcpu=v4', '-filetype=obj', sFile, '-o', obj]);
    const objText = join(dir, 'big.llvm.bin');
    execFileSync('llvm-objcopy-19', ['-O', 'binary', '-j', '.text', obj, objText]);
    const ours = join(dir, 'big.ours.bin');
    execFileSync(process.execPath, [cli, 'asm', sFile, '-o', ours]);
    const same = execFileSync('cmp', ['-s', ours, objText], { encoding: 'utf8' }) === '';
    if (!same) throw new Error('our encoding of the benchmark file differs from llvm-mc');
  }
  const asmOurs = timeProcess(process.execPath, [cli, 'asm', sFile, '-o', join(dir, 'out.bin')]);
  const disOurs = timeProcess(process.execPath, [cli, 'disasm', binFile]);
  if (haveLlvm) {
    const asmLlvm = timeProcess(LLVM_MC, ['-triple', 'bpfel', '-mcpu=v4', '-filetype=obj', sFile, '-o', join(dir, 'out.o')]);
    const disLlvm = timeProcess(LLVM_MC, ['-triple', 'bpfel', '-mcpu=v4', '-disassemble', hexFile]);
    rows.push([`assemble ${n.toLocaleString('en')}-line file (whole process)`, fmtMs(asmOurs), fmtRate(n / (asmOurs / 1000)), fmtMs(asmLlvm), fmtRate(n / (asmLlvm / 1000)), `${(asmLlvm / asmOurs).toFixed(2)}×`]);
    rows.push([`disassemble ${n.toLocaleString('en')} instructions (whole process)`, fmtMs(disOurs), fmtRate(n / (disOurs / 1000)), fmtMs(disLlvm), fmtRate(n / (disLlvm / 1000)), `${(disLlvm / disOurs).toFixed(2)}×`]);
  } else {
    rows.push([`assemble ${n}-line file (whole process)`, fmtMs(asmOurs), fmtRate(n / (asmOurs / 1000)), `${LLVM_MC} not installed`, '—', '—']);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`## bpf-asm-ts (median of ${RUNS} runs, Node ${process.versions.node})\n`);
console.log('| benchmark | bpf-asm-ts | instructions/s | llvm-mc-19 | instructions/s | speed-up vs llvm-mc |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log('\nllvm-mc assembles to an ELF object (-filetype=obj); its disassembler reads hex bytes. Both are checked to produce the same bytes as ours.');
