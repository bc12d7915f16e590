import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** The repository root, three levels above this file. */
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * The two-VM test (`npm run test:vm:pair`): boots two 6.12 VMs joined by a socket network
 * (tools/vm/pair.sh), runs pwru in each, and joins their streams with `pwru timeline`.
 */
export default defineConfig({
  root: repoRoot,
  test: {
    include: ['tools/vm/two-node/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 60_000,
    hookTimeout: 400_000,
  },
});
