#!/usr/bin/env node
// One error root per package: every error class declared in a package's src/ (exported or not,
// tests excepted) must derive, through classes of the same package, from that package's root, so
// one `instanceof` catches whatever the package throws. A class that extends a built-in error
// (Error, TypeError, ...) or another package's error class directly is reported with the file to
// fix. Run by `npm run lint`; each package's errors test checks the same of its exports at run time.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** Package directory → its root error class. */
const ROOTS = {
  asm: 'AsmError',
  btf: 'BtfError',
  pcap2ebpf: 'Pcap2EbpfError',
  loader: 'BpfError',
  pwru: 'PwruError',
};
const BUILT_IN = new Set(['Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError', 'AggregateError']);
const CLASS = /\bclass\s+([A-Za-z_$][\w$]*)\s+extends\s+([A-Za-z_$][\w$.]*)/g;

/** Every non-test TypeScript file under `dir`. */
function sources(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.ts$/.test(e.name) && !/\.test\.ts$|\.d\.ts$/.test(e.name)) out.push(p);
  }
  return out;
}

/** The problems of one package: one line per error class outside its root. */
export function errorRootProblems(pkg, rootName, files) {
  /** class name → { parent, file } */
  const classes = new Map();
  for (const [file, text] of files) {
    for (const m of text.matchAll(CLASS)) classes.set(m[1], { parent: m[2], file });
  }
  const problems = [];
  for (const [name, { file }] of classes) {
    if (name === rootName) continue;
    let at = name;
    const seen = new Set();
    while (classes.has(at) && at !== rootName && !seen.has(at)) {
      seen.add(at);
      at = classes.get(at).parent;
    }
    if (at === rootName) continue;
    // Ends outside the package: a built-in error, or another package's error class.
    if (BUILT_IN.has(at) || /Error$/.test(at)) {
      problems.push(`${relative(root, file)}: ${name} derives from ${at}, not from ${pkg}'s root ${rootName}`);
    }
  }
  if (!classes.has(rootName)) problems.push(`packages/${pkg}/src: the root error class ${rootName} is not declared`);
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let problems = [];
  let count = 0;
  for (const [pkg, rootName] of Object.entries(ROOTS)) {
    const files = sources(join(root, 'packages', pkg, 'src')).map((f) => [f, readFileSync(f, 'utf8')]);
    count += files.length;
    problems = problems.concat(errorRootProblems(pkg, rootName, files));
  }
  if (problems.length > 0) {
    for (const p of problems) console.error(p);
    console.error(`error roots: ${problems.length} error class(es) outside their package's root`);
    process.exit(1);
  }
  console.log(`error roots: every error class of ${Object.keys(ROOTS).length} packages derives from its root`);
}
