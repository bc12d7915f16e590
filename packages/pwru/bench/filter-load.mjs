// What a pcap filter costs at load time: pwru's own "Loaded programs ms=" (--debug, tracepoint
// backend, every skb tracepoint) with a protochain filter against a plain one of the same reach,
// the two runs alternating so that both see the same machine. Medians; ratio protochain / plain.
import { spawn } from 'node:child_process';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The filters compared: `protochain` lowers to a bounded loop the verifier walks trip by trip. */
export const FILTERS = { plain: 'ip6 and udp', protochain: 'ip6 protochain 17' };

/** Runs pwru until it logs how long loading took, then stops it with SIGINT; resolves the milliseconds. */
export function loadMs(filter, { timeoutMs = 120_000 } = {}) {
  const bin = new URL('../bin/pwru.js', import.meta.url).pathname;
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [bin, '--debug', '--backend', 'tracepoint', '--output-limit-lines', '1', filter],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let text = '';
    let ms;
    const onData = (d) => {
      text += d;
      const m = /Loaded programs ms=(\d+)/.exec(text);
      if (m && ms === undefined) {
        ms = Number(m[1]);
        child.kill('SIGINT');
      }
    };
    const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', () => {
      clearTimeout(timer);
      if (ms !== undefined) resolve(ms);
      else reject(new Error(text.trim().split('\n').pop() || `pwru '${filter}' logged no load time`));
    });
  });
}

/** Bench rows: each filter's median load time and the protochain/plain ratio. */
export async function filterLoadRows(runs) {
  if (process.getuid?.() !== 0) return [['program load with a pcap filter (skipped: needs root)', '', '']];
  const plain = [];
  const chain = [];
  for (let i = 0; i < runs; i++) {
    plain.push(await loadMs(FILTERS.plain));
    chain.push(await loadMs(FILTERS.protochain));
  }
  const p = median(plain);
  const c = median(chain);
  return [
    [
      `program load (tracepoint backend, --debug "Loaded programs"), pcap '${FILTERS.plain}' (peer)`,
      `${p} ms`,
      '1.00x',
    ],
    [`program load, pcap '${FILTERS.protochain}' (a bounded loop)`, `${c} ms`, `${(c / p).toFixed(2)}x`],
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  for (const r of await filterLoadRows(runs)) console.log(`| ${r.join(' | ')} |`);
}
