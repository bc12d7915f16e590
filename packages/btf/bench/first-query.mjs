// Child process of bench.mjs: the first by-name query in a fresh process (cold code, as a tool's
// start-up sees it), on a just-parsed blob. Prints milliseconds as JSON.
import { readFileSync } from 'node:fs';

const [, , distIndex, file] = process.argv;
const { Btf } = await import(distIndex);
const btf = Btf.parse(readFileSync(file));
const t0 = performance.now();
const found = btf.idsByName('sk_buff', 'struct').length;
const first = performance.now() - t0;
console.log(JSON.stringify({ first, found }));
