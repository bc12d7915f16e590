import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** The repository root, two levels above this file. */
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Vitest configuration for the tests that must run inside the kprobe-capable test VM
 * (`*.vm.test.ts`). tools/vm/test.sh runs it inside one VM boot; host runs exclude these files.
 */
export default defineConfig({
  root: repoRoot,
  test: {
    include: ['packages/*/src/**/*.vm.test.ts', 'packages/*/test/**/*.vm.test.ts', 'tools/vm/**/*.vm.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    // Under TCG emulation node runs 5-20x slower than on the host.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // The VM has 2 vCPUs emulated on shared host cores; one worker keeps runs predictable, and
    // tests that attach kernel probes or create namespaces do not race each other.
    fileParallelism: false,
    passWithNoTests: true,
  },
});
