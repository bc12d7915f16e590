// UDP flood across a veth pair between two private network namespaces, measured with no tracer,
// with an empty program on the ten skb tracepoints of attach.mjs (the floor), with bpftrace on
// them with a never-true predicate, and with pwru (a pcap filter that never matches the flood,
// one that matches every datagram, and that with --output-pcapng); plus the tracers' peak RSS after the flood. Runs interleave, so all see the same machine.
// All traffic stays on 10.213.0.0/30 inside namespaces this script creates and always deletes.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachments, FILTER_FUNC, tracefsProbes, TRACEPOINTS } from './attach.mjs';

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

/** Resolves once `child` holds `n` attachment fds (bpf_link, perf_event), as attach.mjs counts them. */
function waitAttached(child, n, ms = 120_000) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = setInterval(() => {
      if (attachments(child.pid) >= n) return (clearInterval(tick), resolve());
      if (child.exitCode !== null || child.signalCode !== null || Date.now() - t0 > ms)
        clearInterval(tick), reject(new Error(`${child.spawnfile} did not attach`));
    }, 5);
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
  const rx = track(
    spawn('ip', ['netns', 'exec', nsB, process.execPath, '-e', RECEIVER], { stdio: ['pipe', 'pipe', 'pipe'] }),
  );
  await waitOutput(rx, /bound/);
  const tx = track(
    spawn('ip', ['netns', 'exec', nsA, process.execPath, '-e', SENDER], { stdio: ['ignore', 'pipe', 'pipe'] }),
  );
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

/**
 * The tracers of the flood, each on the same TRACEPOINTS: the floor (an empty program on each),
 * bpftrace with a never-true predicate, pwru with a pcap filter that never matches the flood.
 */
function floodTracers() {
  const bin = new URL('../bin/pwru.js', import.meta.url).pathname;
  const empty = new URL('./empty-tracer.mjs', import.meta.url).pathname;
  const probes = tracefsProbes(TRACEPOINTS);
  const out = [
    { name: 'empty', cmd: process.execPath, args: [empty, ...TRACEPOINTS] },
    {
      name: 'pwru',
      cmd: process.execPath,
      args: [bin, '--backend=tracepoint', `--filter-func=${FILTER_FUNC}`, 'udp port 9'],
    },
    // Every datagram matches: the cost of the events themselves, then with the in-kernel packet
    // copy and the pcapng writing (--output-pcapng) on top.
    {
      name: 'pwru-matching',
      cmd: process.execPath,
      args: [bin, '--backend=tracepoint', `--filter-func=${FILTER_FUNC}`, `udp port ${PORT}`],
    },
    {
      name: 'pwru-pcapng',
      cmd: process.execPath,
      args: [
        bin,
        '--backend=tracepoint',
        `--filter-func=${FILTER_FUNC}`,
        '--output-pcapng',
        '/dev/null',
        `udp port ${PORT}`,
      ],
    },
  ];
  if (spawnSync('bpftrace', ['--version']).status === 0 && probes.length === TRACEPOINTS.length) {
    out.push({
      name: 'bpftrace',
      cmd: 'bpftrace',
      args: ['-e', `${probes.join(',')} /pid == 4294967295/ { @n = count(); }`],
    });
  }
  return out;
}

/** Rows of the flood table, or one row saying why it was skipped. */
export async function floodRows(runs = 3) {
  if (process.getuid?.() !== 0)
    return [['veth UDP flood (skipped: needs root for network namespaces and BPF)', '', '']];
  if (spawnSync('ip', ['-V']).status !== 0) return [['veth UDP flood (skipped: iproute2 not installed)', '', '']];
  const tracers = floodTracers();
  const nsA = `pwru-bench-a-${process.pid}`;
  const nsB = `pwru-bench-b-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'pwru-flood-'));
  const none = [];
  const rates = new Map(tracers.map((t) => [t.name, []]));
  const hwm = new Map(tracers.map((t) => [t.name, []]));
  const kept = new Map(tracers.map((t) => [t.name, []]));
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
    for (const [ns, dev] of [
      [nsA, 'veth0'],
      [nsB, 'veth1'],
    ]) {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'link', 'set', dev, 'up');
    }
    for (let i = 0; i < runs; i++) {
      // Each tracer in turn, the order rotating from run to run; each traced flood right after an
      // untraced one, so that the rate kept compares two floods a few seconds apart.
      for (let k = 0; k < tracers.length; k++) {
        const t = tracers[(i + k) % tracers.length];
        const base = await flood(nsA, nsB);
        none.push(base);
        const child = track(spawn(t.cmd, t.args, { stdio: ['ignore', 'ignore', 'pipe'] }));
        try {
          await waitAttached(child, TRACEPOINTS.length);
          rates.get(t.name).push(await flood(nsA, nsB));
          kept.get(t.name).push(rates.get(t.name).at(-1) / base);
          hwm.get(t.name).push(status(child.pid).hwm);
        } finally {
          await stop(child, 'SIGKILL');
        }
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    cleanup();
  }
  const base = median(none);
  const slow = (name) => 1 / median(kept.get(name));
  const n = TRACEPOINTS.length;
  const row = (name, what) => [
    what,
    `${fmt(median(rates.get(name)))} packets/s; ${median(kept.get(name)).toFixed(2)}x of the untraced flood before it (${Math.min(...kept.get(name)).toFixed(2)}-${Math.max(...kept.get(name)).toFixed(2)}), slowdown ${slow(name).toFixed(2)}x`,
    `${(slow(name) / slow('empty')).toFixed(2)}x`,
  ];
  const rows = [
    [
      'veth UDP flood, 64-byte datagrams, no tracer (before each traced flood)',
      `${fmt(base)} packets/s (${fmt(Math.min(...none))}-${fmt(Math.max(...none))})`,
      'n/a',
    ],
    row('empty', `floor: an empty tp_btf program (r0 = 0; exit) on each of the ${n} tracepoints`),
  ];
  if (rates.has('bpftrace'))
    rows.push(row('bpftrace', `peer: bpftrace on the same ${n} tracepoints, never-true predicate`));
  else rows.push(['peer: bpftrace (not installed, or tracefs lacks the tracepoints)', 'n/a', 'n/a']);
  rows.push(
    row('pwru', `pwru --backend=tracepoint on the same ${n} tracepoints, pcap filter 'udp port 9' (never matches)`),
  );
  rows.push(
    row(
      'pwru-matching',
      `pwru on the same ${n} tracepoints, 'udp port ${PORT}' (every datagram matches; events printed to /dev/null)`,
    ),
  );
  rows.push(
    row(
      'pwru-pcapng',
      `the same with --output-pcapng /dev/null (in-kernel copy of up to 256 bytes per event + pcapng writing)`,
    ),
  );
  const mib = (name) => `${(median(hwm.get(name)) / 1024).toFixed(0)} MiB`;
  if (rates.has('bpftrace')) {
    rows.push([
      `peak RSS (VmHWM) after the flood: pwru ${mib('pwru')}, bpftrace ${mib('bpftrace')}`,
      mib('pwru'),
      `pwru / bpftrace ${(median(hwm.get('pwru')) / median(hwm.get('bpftrace'))).toFixed(2)}x`,
    ]);
  } else rows.push(['pwru peak RSS (VmHWM) after the flood', mib('pwru'), 'n/a']);
  return rows;
}
