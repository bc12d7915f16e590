// Start-up measured from outside the process, the same way for every tracer: the time from exec
// until the process holds all its attachments (anon_inode:bpf_link or anon_inode:[perf_event] file
// descriptors in /proc/PID/fd), its RSS at that moment, and the time from SIGINT until it exits.
// pwru (tracepoint backend, --filter-func picking TRACEPOINTS, a pcap filter that never matches)
// and bpftrace (the same tracepoints, @n = count()) run alternately, so both see the same machine.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The ten skb tracepoints of the comparison: the ones a veth UDP flood goes through, and drops. */
export const TRACEPOINTS = [
  'kfree_skb',
  'consume_skb',
  'skb_copy_datagram_iovec',
  'net_dev_queue',
  'net_dev_start_xmit',
  'net_dev_xmit',
  'netif_rx',
  'netif_rx_entry',
  'netif_receive_skb',
  'netif_receive_skb_entry',
];

/** pwru's --filter-func regular expression naming exactly TRACEPOINTS. */
export const FILTER_FUNC = `^(${TRACEPOINTS.join('|')})$`;

/** A pcap filter no flood in the bench matches (10.255.255.254 is never used). */
export const NEVER = 'host 10.255.255.254 and tcp';

export const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** How long a tracer may take to exit after SIGINT before it is killed (and counted as this long). */
export const EXIT_LIMIT_MS = 15_000;

/** How many attachment file descriptors (BPF links, perf events) process `pid` holds; -1 once it is gone. */
export function attachments(pid) {
  let names;
  try {
    names = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return -1;
  }
  let n = 0;
  for (const fd of names) {
    let target;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    if (target === 'anon_inode:bpf_link' || target === 'anon_inode:[perf_event]') n++;
  }
  return n;
}

/** VmRSS and VmHWM of `pid` in KiB. */
export function memory(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(text.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN);
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/**
 * CPU time `pid` has used so far, all its threads, in milliseconds (from schedstat, nanoseconds):
 * unlike wall time, barely moved by other work on a loaded machine.
 */
export function cpuMs(pid) {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return ns / 1e6;
}

/** bpftrace's probe names (`tracepoint:<category>:<name>`) for tracepoint `names`, from tracefs. */
export function tracefsProbes(names) {
  if (spawnSync('mountpoint', ['-q', '/sys/kernel/tracing']).status !== 0)
    spawnSync('mount', ['-t', 'tracefs', 'nodev', '/sys/kernel/tracing']);
  const root = '/sys/kernel/tracing/events';
  const out = [];
  for (const name of names) {
    for (const cat of readdirSync(root)) {
      try {
        readdirSync(`${root}/${cat}/${name}`);
      } catch {
        continue;
      }
      out.push(`tracepoint:${cat}:${name}`);
      break;
    }
  }
  return out;
}

/**
 * Runs `cmd` until it holds `expected` attachments and their number has stayed the same for
 * `settleMs`, then SIGINTs it. Resolves { attachMs, cpuMs, rssKiB, hwmKiB, exitMs } (times from
 * just before the exec, CPU time until attached, and time from the SIGINT), or rejects with the
 * child's last stderr line.
 */
export function timeAttach(cmd, args, expected, { settleMs = 300, timeoutMs = 60_000, env } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(env ? { env: { ...process.env, ...env } } : {}),
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    let exited = false;
    let onExit = () => undefined;
    child.on('exit', () => ((exited = true), onExit()));
    const fail = (why) => {
      if (!exited) child.kill('SIGKILL');
      reject(new Error(`${cmd}: ${why}${err.trim() ? `: ${err.trim().split('\n').pop()}` : ''}`));
    };
    void (async () => {
      let count = 0;
      let reachedAt = 0; // when `count` was first seen
      let mem;
      while (!exited) {
        const n = attachments(child.pid);
        const now = performance.now();
        if (n !== count) {
          count = n;
          reachedAt = now;
          // Memory at the moment the last attachment appears (read again if more follow).
          if (n >= expected) mem = { ...memory(child.pid), cpu: cpuMs(child.pid) };
        } else if (count >= expected && now - reachedAt >= settleMs) break;
        if (now - t0 > timeoutMs) return fail(`not attached after ${timeoutMs} ms (${count} of ${expected})`);
        await sleep(1);
      }
      if (exited) return fail(`exited before attaching (${count} of ${expected} attachments)`);
      const attachMs = reachedAt - t0;
      const stopAt = performance.now();
      // A tracer still running EXIT_LIMIT_MS after SIGINT is killed; its exit time counts as the limit.
      let killed = false;
      const slow = setTimeout(() => ((killed = true), child.kill('SIGKILL')), EXIT_LIMIT_MS);
      onExit = () => {
        clearTimeout(slow);
        const exitMs = killed ? EXIT_LIMIT_MS : performance.now() - stopAt;
        resolve({ attachMs, cpuMs: mem.cpu, rssKiB: mem.rss, hwmKiB: mem.hwm, exitMs, killed, attached: count });
      };
      child.kill('SIGINT');
    })().catch((e) => fail(e.message));
  });
}

/** The tracers compared, each a command line attaching TRACEPOINTS. */
export function tracers() {
  const bin = new URL('../bin/pwru.js', import.meta.url).pathname;
  const probes = tracefsProbes(TRACEPOINTS);
  const out = [
    { name: 'pwru', cmd: process.execPath, args: [bin, '--backend=tracepoint', `--filter-func=${FILTER_FUNC}`, NEVER] },
  ];
  if (spawnSync('bpftrace', ['--version']).status === 0 && probes.length === TRACEPOINTS.length) {
    out.push({ name: 'bpftrace', cmd: 'bpftrace', args: ['-e', `${probes.join(',')} { @n = count(); }`] });
  }
  return out;
}

const mib = (kib) => `${(kib / 1024).toFixed(0)} MiB`;
const spread = (xs, f) => `${f(Math.min(...xs))}-${f(Math.max(...xs))}`;

/** Bench rows: pwru and bpftrace, run alternately `runs` times each. */
export async function attachRows(runs) {
  if (process.getuid?.() !== 0) return [['start-up to fully attached (skipped: needs root)', '', '']];
  const ts = tracers();
  const res = new Map(ts.map((t) => [t.name, []]));
  for (let i = 0; i < runs; i++) {
    // Alternate who goes first, so neither always runs right after the other's exit.
    for (const t of i % 2 ? [...ts].reverse() : ts)
      res.get(t.name).push(await timeAttach(t.cmd, t.args, TRACEPOINTS.length));
  }
  const ms = (x) => `${x.toFixed(0)} ms`;
  const med = (name, k) => median(res.get(name).map((r) => r[k]));
  const peer = res.has('bpftrace');
  const ratio = (k) => (peer ? `${(med('pwru', k) / med('bpftrace', k)).toFixed(2)}x` : 'n/a');
  const row = (name, what, k, f) => {
    const xs = res.get(name).map((r) => r[k]);
    const killed = k === 'exitMs' ? res.get(name).filter((r) => r.killed).length : 0;
    const note = killed ? `; ${killed} of ${xs.length} still running after ${EXIT_LIMIT_MS / 1000} s, killed` : '';
    return [`${what}`, `${f(median(xs))} (${spread(xs, f)}${note})`, name === 'pwru' ? ratio(k) : '1.00x'];
  };
  const n = TRACEPOINTS.length;
  const rows = [
    row(
      'pwru',
      `pwru: exec to ${n} tracepoints attached (bpf_link fds; --backend=tracepoint --filter-func, pcap filter)`,
      'attachMs',
      ms,
    ),
    ...(peer
      ? [
          row(
            'bpftrace',
            `peer: bpftrace, exec to the same ${n} tracepoints attached (perf_event fds; @n = count())`,
            'attachMs',
            ms,
          ),
        ]
      : []),
    row('pwru', 'pwru: CPU time until attached (all threads)', 'cpuMs', ms),
    ...(peer ? [row('bpftrace', 'peer: bpftrace CPU time until attached (all threads)', 'cpuMs', ms)] : []),
    row('pwru', 'pwru: RSS when attached (VmRSS)', 'rssKiB', mib),
    ...(peer ? [row('bpftrace', 'peer: bpftrace RSS when attached (VmRSS)', 'rssKiB', mib)] : []),
    row('pwru', 'pwru: SIGINT to exit', 'exitMs', ms),
    ...(peer ? [row('bpftrace', 'peer: bpftrace SIGINT to exit', 'exitMs', ms)] : []),
  ];
  if (!peer) rows.push(['peer: bpftrace (not installed, or tracefs lacks the tracepoints)', 'n/a', 'n/a']);
  return rows;
}

// `node bench/attach.mjs [runs]` prints just these rows.
if (import.meta.url === `file://${process.argv[1]}`) {
  const runs = Number(process.argv[2] ?? process.env.BENCH_RUNS ?? 5);
  for (const r of await attachRows(runs)) console.log(`| ${r.join(' | ')} |`);
}
