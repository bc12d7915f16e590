/**
 * The `pwru` command's entry: runs the one-file CLI bundle through the V8 code cache
 * (see code-cache.ts), or the ES module CLI when the bundle was not built.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runBundle } from './code-cache.js';
import { holdYoungGeneration } from './heap.js';

holdYoungGeneration();

const bundle = fileURLToPath(new URL('./pwru.cjs', import.meta.url));
if (existsSync(bundle)) {
  // koffi, the bundle's one external module, is bpf-loader-ts's dependency: resolve it from there.
  runBundle(bundle, import.meta.resolve('bpf-loader-ts'));
} else {
  await import('./cli.js');
}
