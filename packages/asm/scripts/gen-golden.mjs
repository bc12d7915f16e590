#!/usr/bin/env node
// Generates test/fixtures/llvm-golden.json: every opcode and operand form of the eBPF ISA as
// LLVM's assembler encodes and prints it. Run on a machine with llvm-19 installed:
//   node scripts/gen-golden.mjs [path/to/llvm-mc]
// Each row: { source, llvm (LLVM's printed text), le (bpfel hex), disasm (llvm-mc -disassemble of
// those bytes), be? (bpfeb hex, for a subset),
// alt? (an alternative spelling whose printed form we do not reproduce) }.
// The fixture is committed; the tests need no LLVM.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const llvmMc = process.argv[2] ?? '/usr/bin/llvm-mc-19';
const IMMS = [0, 1, -1, 2147483647, -2147483648];
const OFFS = [0, 1, -1, 32767, -32768];
const REGS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const rows = []; // [source, alt]
const add = (source, alt = false) => rows.push([source, alt]);
const sgn = (n) => (n < 0 ? `- ${-n}` : `+ ${n}`);
const rel = (n) => (n < 0 ? `${n}` : `+${n}`);

// ALU and ALU64: every operation, both sources, boundary immediates, every register.
const ALU = ['+=', '-=', '*=', '/=', '|=', '&=', '<<=', '>>=', '%=', '^=', 's>>=', 's/=', 's%=', '='];
for (const r of ['r', 'w']) {
  for (const op of ALU) {
    for (const k of IMMS) add(`${r}1 ${op} ${k}`);
    add(`${r}3 ${op} ${r}4`);
  }
  for (const i of REGS) {
    add(`${r}${i} += ${r}${10 - i}`);
    add(`${r}${i} = ${r}${(i + 3) % 11}`);
    add(`${r}${i} ^= ${i}`);
    add(`${r}${i} = -${r}${i}`);
  }
  add(`${r}2 = 0xffffffff`, true);
  add(`${r}2 += 0x7fffffff`, true);
}
for (const bits of [8, 16, 32]) for (const i of [0, 5, 10]) add(`r${i} = (s${bits})r${10 - i}`);
for (const bits of [8, 16]) for (const i of [0, 5, 10]) add(`w${i} = (s${bits})w${10 - i}`);
for (const kind of ['be', 'le', 'bswap'])
  for (const bits of [16, 32, 64]) for (const i of [0, 1, 10]) add(`r${i} = ${kind}${bits} r${i}`);
add('r1 = addr_space_cast(r2, 0, 1)');
add('r3 = addr_space_cast(r4, 1, 0)');
add('r0 = addr_space_cast(r10, 65535, 65535)');

// JMP and JMP32: every condition, both sources, boundary immediates and offsets.
const CONDS = ['==', '!=', '>', '>=', '<', '<=', 's>', 's>=', 's<', 's<=', '&'];
for (const r of ['r', 'w']) {
  for (const c of CONDS) {
    for (const k of IMMS) add(`if ${r}1 ${c} ${k} goto +1`);
    for (const o of OFFS) add(`if ${r}2 ${c} ${r}3 goto ${rel(o)}`);
  }
  for (const i of REGS) add(`if ${r}${i} == ${r}${10 - i} goto -2`);
}
for (const o of OFFS) {
  add(`goto ${rel(o)}`);
  add(`gotol ${rel(o)}`);
  add(`may_goto ${rel(o)}`);
}
for (const k of [0, 1, 113, 211, 2147483647, -1]) add(`call ${k}`);
add('exit');

// LDX, sign-extending LDX, ST, STX: every size, boundary offsets, every register.
for (const size of ['u8', 'u16', 'u32', 'u64']) {
  for (const o of OFFS) {
    add(`r0 = *(${size} *)(r1 ${sgn(o)})`);
    add(`*(${size} *)(r10 ${sgn(o)}) = r2`);
  }
  for (const k of IMMS) add(`*(${size} *)(r10 - 8) = ${k}`);
  for (const i of REGS) {
    add(`r${i} = *(${size} *)(r${10 - i} + 4)`);
    add(`*(${size} *)(r${i} + 2) = r${10 - i}`);
    add(`*(${size} *)(r${i} - 2) = ${i}`);
  }
}
for (const size of ['s8', 's16', 's32']) {
  for (const o of OFFS) add(`r3 = *(${size} *)(r4 ${sgn(o)})`);
  for (const i of REGS) add(`r${i} = *(${size} *)(r${10 - i} + 0)`);
}
for (const size of ['u8', 'u16', 'u32']) {
  add(`w0 = *(${size} *)(r1 + 8)`, true);
  add(`*(${size} *)(r1 + 4) = w2`, true);
}

// Atomics: 32 and 64 bit, every operation with and without fetch, xchg, cmpxchg.
for (const [r, bits] of [
  ['w', 32],
  ['r', 64],
]) {
  for (const op of ['+=', '|=', '&=', '^=']) {
    for (const o of [0, -8, 32767, -32768]) add(`lock *(u${bits} *)(r10 ${sgn(o)}) ${op} ${r}1`);
  }
  for (const f of ['add', 'or', 'and', 'xor']) {
    for (const o of [0, 8, -32768]) add(`${r}2 = atomic_fetch_${f}((u${bits} *)(r1 ${sgn(o)}), ${r}2)`);
  }
  const suffix = bits === 64 ? '_64' : '32_32';
  for (const i of [0, 3, 10]) add(`${r}${i} = xchg${suffix}(r${10 - i} + 16, ${r}${i})`);
  for (const i of [1, 9]) add(`${r}0 = cmpxchg${suffix}(r${i} - 4, ${r}0, ${r}${10 - i})`);
}
add('lock *(u32 *)(r1 + 0) += r2', true);

// Legacy packet loads.
for (const size of ['u8', 'u16', 'u32']) {
  for (const k of [0, 14, 2147483647]) add(`r0 = *(${size} *)skb[${k}]`);
  for (const i of [0, 1, 6, 10]) add(`r0 = *(${size} *)skb[r${i}]`);
}

// LD_IMM64: boundary constants, every register, every pseudo source LLVM accepts.
for (const v of [
  '0',
  '1',
  '-1',
  '2147483648',
  '4294967296',
  '-4294967296',
  '9223372036854775807',
  '-9223372036854775808',
  '4886718345',
]) {
  add(`r1 = ${v} ll`);
}
add('r2 = 0xffffffffffffffff ll', true);
add('r3 = 0x123456789abcdef0 ll', true);
for (const i of REGS) add(`r${i} = ${i * 1000003} ll`);
for (const src of [1, 2, 3, 4, 5, 6]) for (const k of [0, 5, 2147483647, -1]) add(`ld_pseudo r${src}, ${src}, ${k}`);

const source = rows.map(([s]) => s).join('\n') + '\n';
function run(triple, text) {
  const out = execFileSync(llvmMc, ['-triple', triple, '-mcpu=v4', '-show-encoding'], {
    input: text,
    encoding: 'utf8',
  });
  const lines = out.split('\n').filter((l) => l.includes('# encoding:'));
  return lines.map((l) => {
    const m = /^\t(.*?)\s*# encoding: \[(.*)\]$/.exec(l);
    if (!m) throw new Error(`cannot parse llvm-mc line: ${l}`);
    const hex = m[2]
      .split(',')
      .map((b) => b.replace(/^0x/, '').padStart(2, '0'))
      .join('');
    return { printed: m[1].replace(/\s+/g, ' ').trim(), hex };
  });
}
const le = run('bpfel', source);
if (le.length !== rows.length) throw new Error(`llvm-mc encoded ${le.length} of ${rows.length} lines`);
// LLVM's disassembler on the same bytes: the text llvm-objdump users would paste into our assembler.
const disInput =
  le
    .map((r) =>
      r.hex
        .match(/../g)
        .map((b) => `0x${b}`)
        .join(' '),
    )
    .join('\n') + '\n';
const dis = execFileSync(llvmMc, ['-triple', 'bpfel', '-mcpu=v4', '-disassemble'], {
  input: disInput,
  encoding: 'utf8',
})
  .split('\n')
  .filter((l) => l.startsWith('\t') && !l.startsWith('\t.'))
  .map((l) => l.replace(/\s+/g, ' ').trim());
if (dis.length !== rows.length)
  throw new Error(`llvm-mc -disassemble printed ${dis.length} of ${rows.length} instructions`);
const beIndexes = rows.map((_, i) => i).filter((i) => i % 3 === 0 || /ll$|ld_pseudo/.test(rows[i][0]));
const be = run('bpfeb', beIndexes.map((i) => rows[i][0]).join('\n') + '\n');
if (be.length !== beIndexes.length) throw new Error('bpfeb output length mismatch');
const beByIndex = new Map(beIndexes.map((i, k) => [i, be[k].hex]));
const version = execFileSync(llvmMc, ['--version'], { encoding: 'utf8' }).match(/version ([\d.]+)/)?.[1];
const fixture = {
  generator: 'scripts/gen-golden.mjs',
  note: `generated by llvm-mc ${version} -mcpu=v4 -show-encoding; do not edit`,
  rows: rows.map(([s, alt], i) => ({
    source: s,
    llvm: le[i].printed,
    le: le[i].hex,
    disasm: dis[i],
    ...(beByIndex.has(i) ? { be: beByIndex.get(i) } : {}),
    ...(alt ? { alt: true } : {}),
  })),
};
const target = fileURLToPath(new URL('../test/fixtures/llvm-golden.json', import.meta.url));
// One row per line: diffs of a regenerated fixture stay readable.
const rowLines = fixture.rows.map((r) => JSON.stringify(r)).join(',\n');
writeFileSync(
  target,
  `{"generator":${JSON.stringify(fixture.generator)},"note":${JSON.stringify(fixture.note)},"rows":[\n${rowLines}\n]}\n`,
);
console.log(`wrote ${rows.length} rows (${beIndexes.length} big-endian) to ${target}`);
