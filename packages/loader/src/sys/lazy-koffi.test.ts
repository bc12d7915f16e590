import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** Runs an ES module script in a fresh Node process, importing the built package. */
function run(script: string): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
  }).trim();
}

const addonMapped =
  "import { readFileSync } from 'node:fs'; const mapped = () => readFileSync('/proc/self/maps', 'utf8').includes('koffi');";

describe('the koffi addon', () => {
  it('is not loaded by importing the package', () => {
    expect(run(`${addonMapped} await import('bpf-loader-ts'); console.log(mapped())`)).toBe('false');
  });

  it('is loaded by the first syscall', () => {
    expect(
      run(
        `${addonMapped} const l = await import('bpf-loader-ts'); l.possibleCpus(); l.defaultBackend().alloc(8).free(); console.log(mapped())`,
      ),
    ).toBe('true');
  });
});
