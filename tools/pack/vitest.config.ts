import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** The repository root, two levels above this file. */
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Vitest configuration for the publishing test (`npm run test:pack`): it packs every workspace
 * with `npm pack`, installs the tarballs into an empty prefix and runs `npx pwru` from there.
 */
export default defineConfig({
  root: repoRoot,
  test: {
    include: ['tools/pack/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    // npm install fetches koffi from the registry on a cold cache.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
