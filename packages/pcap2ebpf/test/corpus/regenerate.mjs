#!/usr/bin/env node
// Regenerates the pcap-filter corpus from the oracle, tcpdump/libpcap: for every expression in
// expressions.jsonl and both link types, libpcap's optimized and unoptimized programs (`tcpdump -d`,
// `-ddd`, `-O`), its compile errors, and which packets of l2.pcap / l3.pcap each program accepts
// (`tcpdump -r`). Only this script needs tcpdump; the tests read the files it writes.
//
//   node regenerate.mjs [--out DIR] [--packets] [--check]
//
//   --out DIR    write into DIR (default: this directory)
//   --packets    first rebuild l2.pcap, l3.pcap and packets-*.jsonl with make_packets.py (python3)
//   --check      write into a scratch directory and compare with the committed files; exit 1 on
//                any difference (a changed libpcap, or a hand edit)
//
// Names (services, protocols, networks, hosts) resolve from env/, never from this machine's /etc:
// as root the script re-runs itself in a private mount namespace (`unshare -m`) with env/'s files
// bound over /etc's, so the answers do not depend on the machine that makes them.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const outIndex = args.indexOf('--out');
const check = flag('--check');
const out = check ? mkdtempSync(join(tmpdir(), 'pcap-corpus-')) : outIndex >= 0 ? args[outIndex + 1] : here;

const LINKTYPES = [
  { name: 'EN10MB', pcap: 'l2.pcap', records: 'public-l2.jsonl' },
  { name: 'RAW', pcap: 'l3.pcap', records: 'public-l3.jsonl' },
];
const ETC_FILES = ['services', 'protocols', 'networks', 'hosts'];

function die(message) {
  console.error(`regenerate: ${message}`);
  process.exit(2);
}

if (spawnSync('tcpdump', ['--version']).error) die('tcpdump is not installed: apt-get install -y tcpdump');
if (process.getuid?.() !== 0) die('run as root: names resolve from env/ through bind mounts in a private mount namespace');

// The whole script runs in one private mount namespace with env/'s files bound over /etc's:
// re-exec under `unshare -m` once, then every tcpdump it starts sees those names.
if (process.env.PCAP_CORPUS_NAMESPACE !== '1') {
  const mounts = ETC_FILES.map((f) => `mount --bind '${join(here, 'env', f)}' /etc/${f}`).join(' && ');
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `${mounts} && exec "$0" "$@"`, process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, PCAP_CORPUS_NAMESPACE: '1' },
  });
  process.exit(r.status ?? 2);
}

/** Runs tcpdump with `argv`; resolves to its status, stdout (Buffer) and stderr. */
function tcpdump(argv) {
  return new Promise((resolve) => {
    const child = spawn('tcpdump', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    let err = '';
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => die(`cannot run tcpdump: ${e.message}`));
    child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out), stderr: err }));
  });
}

/** Maps `items` through async `fn` with at most `limit` in flight, keeping the order. */
async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return out;
}

/** libpcap's error message: tcpdump's last stderr line without its `tcpdump: ` prefix. */
function errorOf(stderr) {
  const lines = stderr.split('\n').filter((l) => l.startsWith('tcpdump: '));
  return lines.length ? lines[lines.length - 1].slice('tcpdump: '.length) : stderr.trim();
}

/** `tcpdump -d` and `-ddd` for one expression; `optimize` false adds `-O`. */
async function compile(expr, linktype, optimize) {
  const o = optimize ? [] : ['-O'];
  const [listing, raw] = await Promise.all([tcpdump([...o, '-d', '-y', linktype, expr]), tcpdump([...o, '-ddd', '-y', linktype, expr])]);
  if (listing.status !== 0) return { valid: false, error: errorOf(listing.stderr) };
  const numbers = raw.stdout.toString('utf8').trim().split('\n');
  const tuples = numbers.slice(1).map((l) => l.trim().split(/\s+/).map(Number));
  const lines = listing.stdout.toString('utf8').split('\n').filter((l) => l !== '');
  return { valid: true, lines, tuples };
}

/** Indices (= ts_sec) of the packets of `pcap` that tcpdump's filter accepts, or an error. */
async function matches(expr, pcap, optimize) {
  const r = await tcpdump([...(optimize ? [] : ['-O']), '-r', join(out, pcap), '-w', '-', expr]);
  if (r.status !== 0) return { error: errorOf(r.stderr) };
  const buf = r.stdout;
  const little = buf.readUInt32LE(0) === 0xa1b2c3d4;
  const u32 = (o) => (little ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const indices = [];
  for (let off = 24; off + 16 <= buf.length; off += 16 + u32(off + 8)) indices.push(u32(off));
  return { indices };
}

const eq = (a, b) => JSON.stringify(a) === JSON.stringify(b);

if (flag('--packets') || check) {
  const r = spawnSync('python3', [join(here, 'make_packets.py'), out], { stdio: 'inherit' });
  if (r.status !== 0) die('make_packets.py failed (needs python3)');
}
if (out !== here && !flag('--packets') && !check) {
  for (const f of ['l2.pcap', 'l3.pcap']) copyFileSync(join(here, f), join(out, f));
}

const specs = readFileSync(join(here, 'expressions.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
writeFileSync(join(out, 'public-expressions.txt'), specs.map((s) => s.expr + '\n').join(''));

const CONCURRENCY = 8;
for (const lt of LINKTYPES) {
  const lines = await pool(specs, CONCURRENCY, async (spec) => {
    const rec = { expr: spec.expr, category: spec.category, linktype: lt.name };
    if (spec.notes !== undefined) rec.notes = spec.notes;
    const [opt, noopt] = await Promise.all([compile(spec.expr, lt.name, true), compile(spec.expr, lt.name, false)]);
    rec.valid = opt.valid;
    if (!opt.valid) rec.error = opt.error;
    rec.cbpf_opt = opt.valid ? opt.lines : null;
    rec.cbpf_opt_raw = opt.valid ? opt.tuples : null;
    rec.insn_count_opt = opt.valid ? opt.tuples.length : null;
    rec.noopt_valid = noopt.valid;
    if (!noopt.valid) rec.noopt_error = noopt.error;
    rec.cbpf_noopt = noopt.valid ? noopt.lines : null;
    rec.cbpf_noopt_raw = noopt.valid ? noopt.tuples : null;
    rec.insn_count_noopt = noopt.valid ? noopt.tuples.length : null;
    const [m, mn] = await Promise.all([
      opt.valid ? matches(spec.expr, lt.pcap, true) : { indices: null },
      noopt.valid ? matches(spec.expr, lt.pcap, false) : { indices: null },
    ]);
    if (m.error !== undefined || mn.error !== undefined) {
      rec.match_error = m.error ?? mn.error;
      rec.matches = null;
      rec.matches_noopt = null;
    } else {
      rec.matches = m.indices;
      rec.matches_noopt = mn.indices;
      if (m.indices !== null && mn.indices !== null && !eq(m.indices, mn.indices)) rec.optimizer_changes_matches = true;
    }
    if (spec.pwru?.[lt.name] !== undefined) rec.pwru = spec.pwru[lt.name];
    return JSON.stringify(rec) + '\n';
  });
  writeFileSync(join(out, lt.records), lines.join(''));
  console.error(`regenerate: ${lt.records}: ${lines.length} records`);
}

if (check) {
  const files = ['public-expressions.txt', 'l2.pcap', 'l3.pcap', 'packets-l2.jsonl', 'packets-l3.jsonl', ...LINKTYPES.map((l) => l.records)];
  const differing = files.filter((f) => !readFileSync(join(here, f)).equals(readFileSync(join(out, f))));
  if (differing.length) {
    for (const f of differing) {
      const d = spawnSync('diff', [join(here, f), join(out, f)], { encoding: 'utf8' });
      console.error(`--- ${f}\n${(d.stdout ?? '').split('\n').slice(0, 6).join('\n')}`);
    }
    console.error(`regenerate --check: ${differing.length} file(s) differ from libpcap's answers: ${differing.join(', ')} (scratch copy in ${out})`);
    process.exit(1);
  }
  rmSync(out, { recursive: true, force: true });
  console.error(`regenerate --check: all ${files.length} files identical to libpcap's answers`);
}
