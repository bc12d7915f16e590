import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** The repository root, one level above this file. */
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** The deployment's tests (`npm run test:deploy`): Kubernetes manifests, Dockerfile, scripts; no cluster. */
export default defineConfig({
  root: repoRoot,
  test: {
    include: ['deploy/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
  },
});
