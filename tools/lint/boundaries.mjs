#!/usr/bin/env node
// Proves the import-boundary rules of biome.json bite: writes one probe file per case beside the
// code it stands for, lints it with Biome, removes it, and fails unless every forbidden import is
// reported and every allowed one is not. Run by `npm run lint`.
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** [directory, import specifier, allowed?] */
const CASES = [
  ['packages/loader/src/sys', 'koffi', true],
  ['packages/loader/src/map', 'koffi', false],
  ['packages/pwru/src', 'koffi', false],
  ['packages/asm/src', 'koffi', false],
  ['examples', 'koffi', false],
  ['packages/asm/src', 'bpf-loader-ts', false],
  ['packages/btf/test', 'bpf-loader-ts', false],
  ['packages/pcap2ebpf/src', 'bpf-loader-ts', false],
  ['packages/pcap2ebpf/src', 'pwru', false],
  ['packages/pcap2ebpf/src', 'bpf-asm-ts', true],
  ['packages/pwru/src', 'bpf-loader-ts', true],
  ['packages/pwru/src', 'bpf-loader-ts/dist/index.js', false],
  ['packages/pwru/src', '../../loader/src/prog/program.js', false],
  ['packages/loader/src', '../../asm/src/text/parser.js', false],
  ['packages/btf/src', '../../pcap2ebpf/src/index.js', false],
  ['packages/loader/test', '../src/index.js', true],
];

let wrong = 0;
for (const [i, [dir, spec, allowed]] of CASES.entries()) {
  const file = join(root, dir, `__boundary_probe_${process.pid}_${i}.ts`);
  writeFileSync(file, `import * as m from '${spec}';\nexport { m };\n`);
  let r;
  try {
    r = spawnSync(
      process.execPath,
      [join(root, 'node_modules/@biomejs/biome/bin/biome'), 'lint', '--max-diagnostics=1', file],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
  } finally {
    rmSync(file, { force: true });
  }
  const flagged = /noRestrictedImports/.test(`${r.stdout}${r.stderr}`);
  if (flagged === allowed) {
    wrong++;
    console.error(`boundary rule ${allowed ? 'wrongly reports' : 'misses'} import '${spec}' in ${dir}`);
  }
}
if (wrong > 0) process.exit(1);
console.log(`import boundaries: ${CASES.length} cases hold`);
