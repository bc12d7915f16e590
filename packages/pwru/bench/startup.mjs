// bpftrace's names for every skb tracepoint pwru discovers (the flood attaches them all).
// Start-up itself is measured by attachments in attach.mjs.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadKernelBtf } from 'btf-parser';
import { discoverSkbTracepoints } from '../dist/index.js';

/** Category (tracefs events directory) of each tracepoint name. */
function tracefsCategories() {
  const root = '/sys/kernel/tracing/events';
  const out = new Map();
  if (!existsSync(root)) return out;
  for (const cat of readdirSync(root)) {
    let names;
    try {
      names = readdirSync(join(root, cat));
    } catch {
      continue;
    }
    for (const n of names) if (!out.has(n)) out.set(n, cat);
  }
  return out;
}

/** bpftrace probe names (`tracepoint:<category>:<name>`) of every skb tracepoint tracefs lists. */
export function skbTracepointProbes() {
  if (spawnSync('mountpoint', ['-q', '/sys/kernel/tracing']).status !== 0) spawnSync('mount', ['-t', 'tracefs', 'nodev', '/sys/kernel/tracing']);
  const cats = tracefsCategories();
  return discoverSkbTracepoints(loadKernelBtf(), () => true)
    .map((t) => t.name)
    .filter((n) => cats.has(n))
    .map((n) => `tracepoint:${cats.get(n)}:${n}`);
}
