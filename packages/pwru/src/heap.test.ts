import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

// V8's young generation only ever grows, and this test process's has grown long ago: the module
// runs in a fresh Node, compiled from its source as it stands.
const dir = mkdtempSync(join(tmpdir(), 'pwru-heap-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const source = readFileSync(new URL('./heap.ts', import.meta.url), 'utf8');
writeFileSync(
  join(dir, 'heap.mjs'),
  ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } })
    .outputText,
);

/** The young generation's size (MiB) in a fresh Node that ran `before`, built and dropped two million objects (survivors make V8 grow it), ran `after` and allocated again. */
function youngGeneration(before: string, after: string): { first: number; second: number } {
  const script = `
    import v8 from 'node:v8';
    import * as heap from ${JSON.stringify(join(dir, 'heap.mjs'))};
    const young = () => v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space').space_size / 1048576;
    let keep = 0;
    const churn = () => { let a = []; for (let i = 0; i < 2e6; i++) a.push({ i }); keep += a.length; a = null; };
    ${before}; churn(); const first = young();
    ${after}; churn(); const second = young();
    console.log(JSON.stringify({ first, second, keep: keep > 0 }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as { first: number; second: number };
}

describe('the young generation through start-up', () => {
  it('stays at its initial size while held, and grows again once released', () => {
    const unheld = youngGeneration('', '');
    const held = youngGeneration('heap.holdYoungGeneration()', 'heap.releaseYoungGeneration()');
    expect(unheld.first).toBeGreaterThan(4); // V8 grows it under such churn...
    expect(held.first).toBeLessThanOrEqual(2); // ...unless held
    expect(held.second).toBeGreaterThan(held.first);
  });
});
