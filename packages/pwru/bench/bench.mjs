// pwru benchmarks: run with `node bench/bench.mjs` from packages/pwru after `npx tsup`.
// Prints a markdown table: medians of several runs, and ratios against a peer measured in the same run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatRate } from './format.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0));

/** tcpdump reading a capture and printing one line per packet to /dev/null: packets/s. */
function tcpdumpRate(packets = 300_000) {
  if (!existsSync('/usr/bin/tcpdump') && !existsSync('/usr/sbin/tcpdump')) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'pwru-bench-'));
  const file = join(dir, 'flood.pcap');
  // A classic pcap of `packets` TCP SYNs 10.0.0.232 -> 10.0.1.1:8080.
  const hdr = Buffer.alloc(24);
  hdr.writeUInt32LE(0xa1b2c3d4, 0);
  hdr.writeUInt16LE(2, 4);
  hdr.writeUInt16LE(4, 6);
  hdr.writeUInt32LE(262144, 16);
  hdr.writeUInt32LE(1, 20);
  const frame = Buffer.from(
    'ffffffffffff02fc000000010800' +
      '45000028000100004006' +
      '0000' +
      '0a0000e8' +
      '0a000101' +
      '9c401f90' +
      '00000000' +
      '00000000' +
      '50022000' +
      '00000000',
    'hex',
  );
  const rec = Buffer.alloc(16 + frame.length);
  rec.writeUInt32LE(frame.length, 8);
  rec.writeUInt32LE(frame.length, 12);
  frame.copy(rec, 16);
  const body = Buffer.alloc(rec.length * packets);
  for (let i = 0; i < packets; i++) rec.copy(body, i * rec.length);
  writeFileSync(file, Buffer.concat([hdr, body]));
  const t0 = process.hrtime.bigint();
  const r = spawnSync('tcpdump', ['-n', '-r', file], { stdio: ['ignore', 'ignore', 'ignore'] });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return r.status === 0 ? packets / secs : undefined;
}

const rows = [];
const ours = [],
  json = [],
  pcapng = [],
  peer = [];
for (let i = 0; i < RUNS; i++) {
  ours.push(formatRate('text'));
  json.push(formatRate('json'));
  pcapng.push(formatRate('pcapng'));
  const p = tcpdumpRate();
  if (p !== undefined) peer.push(p);
}
const peerMed = peer.length ? median(peer) : undefined;
const ratio = (x) => (peerMed ? `${(x / peerMed).toFixed(2)}x` : 'n/a');
rows.push(['events decoded + formatted (text) to /dev/null', `${fmt(median(ours))} events/s`, ratio(median(ours))]);
rows.push([
  'events decoded + formatted (--output-json) to /dev/null',
  `${fmt(median(json))} events/s`,
  ratio(median(json)),
]);
rows.push([
  'events decoded + written as pcapng (74-byte packet, comment and JSON option; --output-pcapng) to /dev/null',
  `${fmt(median(pcapng))} events/s`,
  ratio(median(pcapng)),
]);
rows.push([
  'peer: tcpdump -n -r (one line per packet) to /dev/null',
  peerMed ? `${fmt(peerMed)} packets/s` : 'tcpdump not installed',
  '1.00x',
]);
rows.push([
  'upstream pwru Print, quoted from its own Go benchmark (2,745 ns/op; not measured here)',
  `${fmt(1e9 / 2745)} events/s`,
  'n/a',
]);

const filterLoad = await import('./filter-load.mjs')
  .then((m) => m.filterLoadRows(RUNS))
  .catch((e) => [[`program load with a pcap filter (skipped: ${e.message})`, '', '']]);
rows.push(...filterLoad);
const attachRuns = Number(process.env.BENCH_ATTACH_RUNS ?? 7);
const attach = await import('./attach.mjs')
  .then((m) => m.attachRows(attachRuns))
  .catch((e) => [[`start-up to fully attached (skipped: ${e.message})`, '', '']]);
const floodRuns = Number(process.env.BENCH_FLOOD_RUNS ?? 3);
const flood = await import('./flood.mjs')
  .then((m) => m.floodRows(floodRuns))
  .catch((e) => [[`veth UDP flood (skipped: ${e.message})`, '', '']]);

console.log(`| benchmark (median of ${RUNS}) | value | ratio vs peer (time: lower is better; rate: higher) |`);
console.log('|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log('');
console.log(
  `| start-up, memory and exit, measured from outside by attachments (median of ${attachRuns}, pwru and bpftrace alternating; range in brackets) | value | ratio pwru / bpftrace (lower is better) |`,
);
console.log('|---|---|---|');
for (const r of attach) console.log(`| ${r.join(' | ')} |`);
console.log('');
console.log(
  `| tracer overhead on a veth UDP flood (median of ${floodRuns}, tracers interleaved) | value | slowdown / the empty program's (lower is better) |`,
);
console.log('|---|---|---|');
for (const r of flood) console.log(`| ${r.join(' | ')} |`);
