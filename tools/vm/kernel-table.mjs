#!/usr/bin/env node
// `npm run kernel-table`: rewrites the README's feature × kernel table from what the tests ran.
//
//   node tools/vm/kernel-table.mjs [--check]
//
// Inputs: the vitest JSON reports tools/vm/test.sh leaves in .vm-cache/results/<kernel>.json
// (one full VM run per kernel of the matrix) and, for the host column, .vm-cache/results/host.json
// (`node tools/vm/kernel-table.mjs --run-host` writes it by running the host's pwru end-to-end and
// loader suites with the JSON reporter). Each row matches tests by their titles: the VM suites
// put the backend (`kprobe backend`, `kprobe-multi backend, the default`, `fentry backend`) and the
// flag in them, and a test skipped on a kernel says why after ` — skipped: `.
// The table lands between <!-- kernel-table:begin --> and <!-- kernel-table:end --> in README.md.
// --check exits 1 when the README differs from what the results say.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const cache = process.env.BPF_TS_VM_CACHE ?? `${repo}.vm-cache`;
const readme = `${repo}README.md`;
const BEGIN = '<!-- kernel-table:begin -->';
const END = '<!-- kernel-table:end -->';

/** Columns: the VM kernels, then the host. */
const COLUMNS = [
  { key: '5.10', title: '5.10 (VM)' },
  { key: '6.1', title: '6.1 (VM)' },
  { key: '6.12', title: '6.12 (VM)' },
  { key: 'host', title: 'host' },
];

const has =
  (...words) =>
  (t) =>
    words.every((w) => t.name.includes(w));
const titleHas =
  (...words) =>
  (t) =>
    words.every((w) => t.title.includes(w));
const inFile = (part) => (t) => t.file.includes(part);
const either =
  (...preds) =>
  (t) =>
    preds.some((p) => p(t));
const both =
  (...preds) =>
  (t) =>
    preds.every((p) => p(t));
const pwruE2e = inFile('packages/pwru/test/e2e/');

/** Rows: a label and which tests stand for it. */
export const ROWS = [
  ['pwru `--backend kprobe` (per-function kprobes)', both(pwruE2e, has('kprobe backend'))],
  ['pwru kprobe-multi (the default where it attaches)', both(pwruE2e, has('kprobe-multi backend'))],
  ['pwru `--backend fentry`', both(pwruE2e, either(has('fentry backend'), has('fentry on our own tc and XDP')))],
  ['pwru `--backend tracepoint` (tp_btf)', both(pwruE2e, has('tracepoint backend'))],
  [
    'seed: iptables drop, `nf_hook_slow` then the drop',
    both(pwruE2e, either(has('basic-ipv4'), has('for a drop in a namespace'))),
  ],
  [
    '`--filter-track-skb` (DNAT, clones, XDP)',
    both(pwruE2e, either(has('skb tracking through DNAT'), has('--filter-track-skb'))),
  ],
  ['`--output-return`', both(pwruE2e, has('--output-return'))],
  ['`--output-caller`, `--output-stack`', both(pwruE2e, has('--output-caller'))],
  ['`--output-skb`, `--output-summary`', both(pwruE2e, has('--output-skb'))],
  ['`--output-bpfmap`', inFile('e2e/bpfmap.vm.test')],
  [
    '`--filter-track-bpf-helpers` (/proc/kcore)',
    either(has('--filter-track-bpf-helpers'), inFile('test/bpf-helpers.vm.test')),
  ],
  ['`--filter-trace-tc`, `--filter-trace-xdp`', inFile('e2e/bpf-progs.vm.test')],
  ['boolean `--filter-skb-expr` (casts, masks, strings)', both(pwruE2e, has('--filter-skb-expr'))],
  ['`--output-ct` (conntrack state, both tuples)', both(pwruE2e, has('--output-ct'))],
  ['`--output-netfilter` (iptables-legacy, iptables-nft, nft)', both(pwruE2e, has('--output-netfilter'))],
  ['`--output-pcapng`', both(pwruE2e, has('--output-pcapng'))],
  ['`--output-sequence`, `--input-json`', both(pwruE2e, has('--output-sequence'))],
  ['generated programs pass the verifier', inFile('test/verifier')],
  [
    'loader: kprobe / kretprobe links',
    both(
      inFile('packages/loader/'),
      either(titleHas('kprobe on'), titleHas('kretprobe'), titleHas('batch'), titleHas('detaches')),
    ),
  ],
  ['loader: kprobe-multi links (entry, return, cookies)', inFile('link/kprobe-multi.vm.test')],
  ['loader: fentry / fexit links', both(inFile('packages/loader/'), titleHas('fentry'))],
  ['loader: nothing outlives a SIGKILLed tracer', both(inFile('packages/loader/'), has('SIGKILL'))],
  ['loader: clang-built CO-RE objects (host: in the loader suite)', inFile('object/object.vm.test')],
];

/** Flattens a vitest JSON report into {file, title, name (with the describe titles), status}. */
export function testsOf(report) {
  const out = [];
  for (const f of report.testResults ?? []) {
    for (const a of f.assertionResults ?? []) {
      out.push({
        file: f.name,
        title: a.title,
        name: [...(a.ancestorTitles ?? []), a.title].join(' > '),
        status: a.status,
      });
    }
  }
  return out;
}

/** Why tests were skipped, from their titles (the first reason found). */
function skipReason(tests) {
  for (const t of tests) {
    const m = / — skipped: (.*?)(?: > |$)/.exec(t.name);
    if (m) return m[1].trim();
  }
  return undefined;
}

/** One cell: passed count, failures, or why everything was skipped. */
export function cell(tests) {
  if (tests.length === 0) return '–';
  const passed = tests.filter((t) => t.status === 'passed').length;
  const failed = tests.filter((t) => t.status === 'failed').length;
  if (failed > 0) return `✗ ${failed} of ${passed + failed} failed`;
  if (passed > 0) return `✓ ${passed}`;
  const why = skipReason(tests);
  return why ? `skipped: ${shorten(why)}` : 'skipped';
}

function shorten(why) {
  // "this kernel has no X (Linux >= V ...): detail" → "no X (needs V)".
  const s = why
    .replace(/^this kernel has /, '')
    .replace(/\s*\(Linux >= ([\d.]+)[^)]*\)/, ' (needs $1)')
    .replace(/\): .*$/, ')')
    .replace(/;.*$/, '');
  return s.length > 70 ? `${s.slice(0, 67)}...` : s;
}

/** The markdown table for reports keyed by column. */
export function renderTable(reports) {
  const header = `| feature | ${COLUMNS.map((c) => c.title).join(' | ')} |`;
  const sep = `|---|${COLUMNS.map(() => '---').join('|')}|`;
  const rows = ROWS.map(
    ([label, match]) =>
      `| ${label} | ${COLUMNS.map((c) => (reports[c.key] ? cell(testsOf(reports[c.key]).filter(match)) : 'not run')).join(' | ')} |`,
  );
  const notes = COLUMNS.filter((c) => reports[c.key]).map((c) => {
    const r = reports[c.key];
    const meta = r.bpfTsVm;
    const skipped = r.numPendingTests + (r.numTodoTests ?? 0);
    const when = meta?.finishedAt ?? (r.startTime ? new Date(r.startTime).toISOString() : '?');
    return `${c.title}: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped${meta ? ` in ${meta.seconds} s (kernel ${meta.kernel})` : ''}, run ${when.slice(0, 16).replace('T', ' ')} UTC`;
  });
  return [
    header,
    sep,
    ...rows,
    '',
    `Cells count the tests that passed (✓ n); a skipped row gives the reason the test itself printed. Runs: ${notes.join('; ')}.`,
  ].join('\n');
}

function loadReports() {
  const reports = {};
  for (const c of COLUMNS) {
    const file = `${cache}/results/${c.key}.json`;
    if (existsSync(file)) reports[c.key] = JSON.parse(readFileSync(file, 'utf8'));
  }
  return reports;
}

function runHost() {
  const out = `${cache}/results/host.json`;
  execFileSync(
    `${repo}node_modules/.bin/vitest`,
    [
      'run',
      '--root',
      `${repo}packages/pwru`,
      'test/e2e',
      '--reporter=dot',
      '--reporter=json',
      `--outputFile.json=${out}`,
    ],
    { stdio: 'inherit', cwd: `${repo}packages/pwru` },
  );
}

function main() {
  const args = process.argv.slice(2);
  for (const a of args) {
    if (!['--check', '--run-host'].includes(a)) {
      console.error(`kernel-table: unknown argument '${a}' (usage: kernel-table.mjs [--run-host] [--check])`);
      process.exit(2);
    }
  }
  if (args.includes('--run-host')) {
    try {
      runHost();
    } catch {
      // Failures are part of the results; the table shows them.
    }
  }
  const reports = loadReports();
  if (Object.keys(reports).length === 0) {
    console.error(`kernel-table: no results in ${cache}/results; run tools/vm/test.sh first`);
    process.exit(1);
  }
  const text = readFileSync(readme, 'utf8');
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) {
    console.error(`kernel-table: README.md has no ${BEGIN} ... ${END} block`);
    process.exit(1);
  }
  const next = `${text.slice(0, start + BEGIN.length)}\n${renderTable(reports)}\n${text.slice(end)}`;
  if (args.includes('--check')) {
    if (next !== text) {
      console.error('kernel-table: README.md is out of date; run npm run kernel-table');
      process.exit(1);
    }
    return;
  }
  writeFileSync(readme, next);
  console.log(`kernel-table: README.md updated from ${Object.keys(reports).join(', ')}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
