// Front-end benchmark: compile time per corpus expression (median, p99) and instruction counts,
// ours (pure TypeScript) vs libpcap's pcap_compile in a small C program built here with gcc and
// Debian's libpcap-dev, measured side by side in the same run. Run after `npx tsup`:
//   node bench/compile.mjs
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile, NameResolver } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const corpus = resolve(here, '../test/corpus');
const REPEATS = 20;
const RUNS = 3;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
}
function p99(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * 0.99))] : NaN;
}

function buildPeer() {
  const dir = mkdtempSync(join(tmpdir(), 'pcap2ebpf-bench-'));
  const exe = join(dir, 'compile-libpcap');
  try {
    execFileSync('gcc', ['-O2', '-o', exe, join(here, 'compile-libpcap.c'), '-lpcap'], { stdio: 'pipe' });
    return exe;
  } catch (e) {
    console.log(
      `(libpcap peer unavailable: ${String(e.stderr ?? e.message).split('\n')[0]} — install gcc and libpcap-dev)`,
    );
    return undefined;
  }
}

function oursPerExpr(exprs, linktype, optimize, names) {
  const ns = [];
  const lens = [];
  for (const expr of exprs) {
    let len = -1;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < REPEATS; i++) {
      try {
        len = compile(expr, { linktype, optimize, names }).length;
      } catch {
        len = -1;
      }
    }
    ns.push(Number(process.hrtime.bigint() - t0) / REPEATS);
    lens.push(len);
  }
  return { ns, lens };
}

function peerPerExpr(exe, exprs, linktype, optimize) {
  const r = spawnSync(exe, [linktype, optimize ? '1' : '0', String(REPEATS)], {
    input: exprs.join('\n') + '\n',
    encoding: 'utf8',
  });
  const rows = r.stdout
    .trim()
    .split('\n')
    .map((l) => l.split(' ').map(Number));
  return { ns: rows.map((x) => x[0]), lens: rows.map((x) => x[1]) };
}

const file = join(corpus, 'public-l2.jsonl');
if (!existsSync(file)) {
  console.log(`corpus not found at ${corpus}; restore it with git checkout`);
  process.exit(1);
}
const exprs = readFileSync(file, 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l).expr);
const names = NameResolver.fromDirectory('/etc');
const peer = buildPeer();

console.log(
  `\n### Compile time per expression (${exprs.length} corpus expressions, ${REPEATS} repeats each, median of ${RUNS} runs)\n`,
);
console.log('| link type | optimizer | ours median | libpcap median | ratio | ours p99 | libpcap p99 |');
console.log('|---|---|---|---|---|---|---|');
const counts = [];
for (const linktype of ['EN10MB', 'RAW']) {
  for (const optimize of [false, true]) {
    const ourRuns = [];
    const peerRuns = [];
    let ourLens = [];
    let peerLens = [];
    for (let run = 0; run < RUNS; run++) {
      const o = oursPerExpr(exprs, linktype, optimize, names);
      ourRuns.push(o.ns);
      ourLens = o.lens;
      if (peer) {
        const p = peerPerExpr(peer, exprs, linktype, optimize);
        peerRuns.push(p.ns);
        peerLens = p.lens;
      }
    }
    const perExpr = (runs) => runs[0].map((_, i) => median(runs.map((r) => r[i])));
    const o = perExpr(ourRuns);
    const p = peer ? perExpr(peerRuns) : [];
    const us = (x) => (Number.isNaN(x) ? 'n/a' : `${(x / 1000).toFixed(1)} µs`);
    const ratio = peer ? `${(median(o) / median(p)).toFixed(2)}×` : 'n/a';
    console.log(
      `| ${linktype} | ${optimize ? 'on' : 'off'} | ${us(median(o))} | ${us(median(p))} | ${ratio} | ${us(p99(o))} | ${us(p99(p))} |`,
    );
    if (peer) counts.push({ linktype, optimize, ourLens, peerLens });
  }
}
if (counts.length) {
  console.log('\n### Instruction counts (expressions both compile)\n');
  console.log('| link type | optimizer | same count | ours shorter | ours longer | ours total | libpcap total |');
  console.log('|---|---|---|---|---|---|---|');
  for (const { linktype, optimize, ourLens, peerLens } of counts) {
    let same = 0,
      shorter = 0,
      longer = 0,
      ot = 0,
      pt = 0;
    ourLens.forEach((o, i) => {
      const q = peerLens[i];
      if (o < 0 || q < 0) return;
      ot += o;
      pt += q;
      if (o === q) same++;
      else if (o < q) shorter++;
      else longer++;
    });
    console.log(`| ${linktype} | ${optimize ? 'on' : 'off'} | ${same} | ${shorter} | ${longer} | ${ot} | ${pt} |`);
  }
}
