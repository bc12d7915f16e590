#!/usr/bin/env node
// `npm run generate`: regenerates every generated source from the kernel BTF committed beside
// this script (Linux 6.18's vmlinux BTF, gzipped), never from the running kernel, so the output
// is the same on every machine:
//   packages/loader/src/sys/generated/constants.ts  (uapi enums: commands, map/prog/attach/link types)
//   packages/loader/src/sys/generated/layouts.ts    (union bpf_attr per command, *_info, perf_event_attr)
//   packages/asm/src/helpers.generated.ts           (enum bpf_func_id)
// `npm run generate -- --check` (CI) regenerates into place and fails if anything changed.
// To move to a newer kernel: gzip -9 -n -c /sys/kernel/btf/vmlinux > tools/generate/vmlinux-<version>.btf.gz,
// update BTF_FILE below, run npm run generate and review the diff.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const BTF_FILE = 'tools/generate/vmlinux-6.18.btf.gz';
const root = fileURLToPath(new URL('../..', import.meta.url));
const GENERATORS = [
  ['packages/loader/scripts/gen-constants.mjs', 'packages/loader/src/sys/generated/constants.ts'],
  ['packages/loader/scripts/gen-layouts.mjs', 'packages/loader/src/sys/generated/layouts.ts'],
  ['packages/asm/scripts/gen-helpers.mjs', 'packages/asm/src/helpers.generated.ts'],
];
const check = process.argv.includes('--check');

const dir = mkdtempSync(join(tmpdir(), 'bpf-ts-generate-'));
const before = new Map(GENERATORS.map(([, out]) => [out, readFileSync(join(root, out), 'utf8')]));
try {
  const btf = join(dir, 'vmlinux.btf');
  writeFileSync(btf, gunzipSync(readFileSync(join(root, BTF_FILE))));
  for (const [script] of GENERATORS) {
    execFileSync(process.execPath, [join(root, script), btf, BTF_FILE], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const changed = GENERATORS.map(([, out]) => out).filter(
  (out) => readFileSync(join(root, out), 'utf8') !== before.get(out),
);
if (changed.length === 0) {
  console.log(`generated sources are up to date with ${BTF_FILE}`);
} else if (check) {
  console.error(`regenerating from ${BTF_FILE} changed ${changed.join(', ')}:`);
  console.error(execFileSync('git', ['diff', '--stat', '--', ...changed], { cwd: root, encoding: 'utf8' }));
  console.error('run npm run generate and commit the result (or revert the hand edit)');
  process.exit(1);
} else {
  console.log(`regenerated ${changed.join(', ')} from ${BTF_FILE}`);
}
