// UDP flood across a veth pair between two private network namespaces, measured with no tracer,
// with pwru (tracepoint backend, a pcap filter that never matches the flood) and with bpftrace
// attaching the same skb tracepoints with a never-true predicate; plus pwru's RSS while tracing.
// All traffic stays on 10.213.0.0/30 inside namespaces this script creates and always deletes.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skbTracepointProbes } from './startup.mjs';

const FLOOD_MS = Number(process.env.BENCH_FLOOD_MS ?? 1500);
const PORT = 5001;
// Datagrams sent per burst before waiting for their callbacks (BENCH_FLOOD_BURST overrides).
const BURST = Number(process.env.BENCH_FLOOD_BURST ?? 64);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0));

const RECEIVER = `
const s = require('node:dgram').createSocket('udp4');
let n = 0;
s.on('message', () => n++);
s.bind(${PORT}, '10.213.0.2', () => console.log('bound'));
process.stdin.on('data', () => { console.log(String(n)); process.exit(0); });
`;
// Sends 64-datagram bursts, each after the previous one's callbacks, for FLOOD_MS.
const SENDER = `
const s = require('node:dgram').createSocket('udp4');
const msg = Buffer.alloc(64);
let sent = 0;
const end = Date.now() + ${FLOOD_MS};
const t0 = process.hrtime.bigint();
function burst() {
  if (Date.now() >= end) {
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(JSON.stringify({ sent, secs }));
    return s.close();
  }
  let left = ${BURST};
  for (let i = 0; i < ${BURST}; i++) s.send(msg, ${PORT}, '10.213.0.2', () => { sent++; if (--left === 0) burst(); });
}
s.bind(0, '10.213.0.1', burst);
`;

const children = new Set();
const killAll = () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
};
process.on('exit', killAll);

function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/** Resolves with the first stdout text matching `re` (or rejects when the child exits first). */
function waitOutput(child, re, ms = 60_000) {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${re}`)), ms);
    child.stderr?.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(re);
      if (m) {
        clearTimeout(t);
        resolve(m);
      }
    });
    child.on('exit', () => {
      clearTimeout(t);
      reject(new Error(err.trim().split('\n').pop() || 'exited'));
    });
  });
}

function waitFile(path, child, ms = 60_000) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = setInterval(() => {
      if (existsSync(path)) return clearInterval(tick), resolve();
      if (child.exitCode !== null || Date.now() - t0 > ms) clearInterval(tick), reject(new Error('pwru did not get ready'));
    }, 10);
  });
}

function stop(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.on('exit', resolve);
    child.kill(signal);
  });
}

function ip(...args) {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

/** One flood: packets received per second at the far end of the veth. */
async function flood(nsA, nsB) {
  const rx = track(spawn('ip', ['netns', 'exec', nsB, process.execPath, '-e', RECEIVER], { stdio: ['pipe', 'pipe', 'pipe'] }));
  await waitOutput(rx, /bound/);
  const tx = track(spawn('ip', ['netns', 'exec', nsA, process.execPath, '-e', SENDER], { stdio: ['ignore', 'pipe', 'pipe'] }));
  const [line] = await waitOutput(tx, /\{.*\}/, FLOOD_MS + 30_000);
  const { secs } = JSON.parse(line);
  await new Promise((r) => setTimeout(r, 100));
  const counted = waitOutput(rx, /^\d+$/m);
  rx.stdin.write('report\n');
  const [n] = await counted;
  return Number(n) / secs;
}

function status(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(text.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN);
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Rows of the flood table, or one row saying why it was skipped. */
export async function floodRows(runs = 3) {
  if (process.getuid?.() !== 0) return [['veth UDP flood (skipped: needs root for network namespaces and BPF)', '', '']];
  if (spawnSync('ip', ['-V']).status !== 0) return [['veth UDP flood (skipped: iproute2 not installed)', '', '']];
  const probes = skbTracepointProbes();
  const haveBpftrace = spawnSync('bpftrace', ['--version']).status === 0 && probes.length > 0;
  const nsA = `pwru-bench-a-${process.pid}`;
  const nsB = `pwru-bench-b-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'pwru-flood-'));
  const bin = new URL('../bin/pwru.js', import.meta.url).pathname;
  const none = [];
  const pwru = [];
  const matching = [];
  const pcapng = [];
  const bpftrace = [];
  const rss = [];
  const hwm = [];
  const cleanup = () => {
    killAll();
    spawnSync('ip', ['netns', 'del', nsA]);
    spawnSync('ip', ['netns', 'del', nsB]);
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = () => {
    cleanup();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    ip('netns', 'add', nsA);
    ip('netns', 'add', nsB);
    ip('-n', nsA, 'link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1', 'netns', nsB);
    ip('-n', nsA, 'addr', 'add', '10.213.0.1/30', 'dev', 'veth0');
    ip('-n', nsB, 'addr', 'add', '10.213.0.2/30', 'dev', 'veth1');
    for (const [ns, dev] of [[nsA, 'veth0'], [nsB, 'veth1']]) {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'link', 'set', dev, 'up');
    }
    for (let i = 0; i < runs; i++) {
      none.push(await flood(nsA, nsB));

      const ready = join(dir, `ready-${i}`);
      const tracer = track(spawn(process.execPath, [bin, '--backend', 'tracepoint', '--ready-file', ready, 'udp port 9'], { stdio: ['ignore', 'ignore', 'pipe'] }));
      try {
        await waitFile(ready, tracer);
        pwru.push(await flood(nsA, nsB));
        const s = status(tracer.pid);
        rss.push(s.rss);
        hwm.push(s.hwm);
      } finally {
        await stop(tracer, 'SIGTERM');
      }

      // Every datagram matches: the cost of the events themselves, then with the in-kernel packet
      // copy and the pcapng writing (--output-pcapng) on top.
      for (const [list, extra] of [[matching, []], [pcapng, ['--output-pcapng', '/dev/null']]]) {
        const readyM = join(dir, `ready-m${list === pcapng ? 'p' : ''}-${i}`);
        const t = track(spawn(process.execPath, [bin, '--backend', 'tracepoint', '--ready-file', readyM, ...extra, `udp port ${PORT}`], { stdio: ['ignore', 'ignore', 'pipe'] }));
        try {
          await waitFile(readyM, t);
          list.push(await flood(nsA, nsB));
        } finally {
          await stop(t, 'SIGTERM');
        }
      }

      if (haveBpftrace) {
        const script = `${probes.join(',')} /pid == 4294967295/ { @n = count(); } BEGIN { printf("ready\\n"); }`;
        const bt = track(spawn('bpftrace', ['-B', 'line', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] }));
        try {
          await waitOutput(bt, /ready/);
          bpftrace.push(await flood(nsA, nsB));
        } finally {
          await stop(bt, 'SIGKILL');
        }
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    cleanup();
  }
  const base = median(none);
  const rel = (x) => `${(x / base).toFixed(2)}x`;
  const rows = [
    ['veth UDP flood, 64-byte datagrams, no tracer (baseline)', `${fmt(base)} packets/s`, '1.00x'],
    [`veth UDP flood with pwru --backend tracepoint 'udp port 9' attached (${probes.length} skb tracepoints, filter never matches)`, `${fmt(median(pwru))} packets/s`, rel(median(pwru))],
  ];
  rows.push([`veth UDP flood with pwru 'udp port ${PORT}' (every datagram matches; events printed to /dev/null)`, `${fmt(median(matching))} packets/s`, rel(median(matching))]);
  rows.push([`the same with --output-pcapng /dev/null (in-kernel copy of up to 256 bytes per event + pcapng writing)`, `${fmt(median(pcapng))} packets/s`, rel(median(pcapng))]);
  if (haveBpftrace) rows.push([`peer: veth UDP flood with bpftrace on the same ${probes.length} tracepoints, never-true predicate`, `${fmt(median(bpftrace))} packets/s`, rel(median(bpftrace))]);
  else rows.push(['peer: bpftrace (not installed, or tracefs not mounted at /sys/kernel/tracing)', 'n/a', 'n/a']);
  rows.push(['pwru RSS during the flood (VmRSS; peak VmHWM)', `${(median(rss) / 1024).toFixed(1)} MiB (peak ${(Math.max(...hwm) / 1024).toFixed(1)} MiB)`, 'n/a']);
  return rows;
}
