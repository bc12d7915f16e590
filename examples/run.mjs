#!/usr/bin/env node
// @ts-check
// `npm run examples`: runs every example against the running kernel (as root; each makes its own
// network namespaces) and checks what it printed. Exits non-zero, naming the example, on the
// first failure.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Each example, and lines its output must contain. */
const EXAMPLES = [
  { file: 'drop-reasons.mjs', expect: [/^\s+([5-9]|\d\d+)\s+SKB_DROP_REASON_NO_SOCKET$/m] },
  {
    file: 'tcpdump-counter.mjs',
    expect: [/^5 packets matched 'udp dst port 4242' on ifindex \d+ in netns ex-\d+-b$/m],
  },
  { file: 'ringbuf.mjs', expect: [/^(packet on ifindex \d+: \d+ bytes\n){4}$/] },
  {
    file: 'pwru-trace.mjs',
    expect: [
      /^netif_receive_skb\s+127\.0\.0\.1:\d+ -> 127\.0\.0\.1:4343 len \d+$/m,
      /^kfree_skb\(SKB_DROP_REASON_NO_SOCKET\)/m,
      /^3 datagrams dropped$/m,
    ],
  },
];

if (process.getuid?.() !== 0) {
  console.error('examples: run as root (they load BPF programs and create network namespaces)');
  process.exit(1);
}
const dir = fileURLToPath(new URL('.', import.meta.url));
let failed = 0;
for (const { file, expect } of EXAMPLES) {
  const started = Date.now();
  const r = spawnSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', timeout: 90_000 });
  const missing = expect.filter((re) => !re.test(r.stdout));
  const ok = r.status === 0 && missing.length === 0;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${file} (${Date.now() - started} ms)`);
  if (!ok) {
    failed++;
    console.log(`  exit ${r.status ?? r.signal}; missing ${missing.map(String).join(', ') || 'nothing'}`);
    console.log(`${r.stdout}${r.stderr}`.replace(/^/gm, '  | '));
  }
}
process.exit(failed === 0 ? 0 : 1);
