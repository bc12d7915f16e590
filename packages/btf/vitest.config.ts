import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    // *.vm.test.ts run inside the kprobe-capable test VM (tools/vm), not on the host.
    exclude: ['**/node_modules/**', '**/dist/**', '**/*.vm.test.ts'],
    passWithNoTests: true,
  },
});
