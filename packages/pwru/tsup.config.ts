import { defineConfig } from 'tsup';

// `npm run build` empties dist first: the two builds below write into it side by side.
export default defineConfig([
  {
    entry: ['src/index.ts', 'src/cli.ts', 'src/internal.ts', 'src/launch.ts'],
    format: ['esm'],
    dts: { compilerOptions: { stripInternal: true } },
    sourcemap: true,
    clean: false,
    target: 'node20',
    splitting: true,
  },
  {
    // The CLI and every workspace package in one CommonJS file, for the code cache (launch.ts).
    entry: { pwru: 'src/cli.ts' },
    format: ['cjs'],
    outExtension: () => ({ js: '.cjs' }),
    noExternal: ['btf-parser', 'bpf-asm-ts', 'pcap2ebpf', 'bpf-loader-ts'],
    external: ['koffi'],
    platform: 'node',
    dts: false,
    sourcemap: false,
    clean: false,
    target: 'node20',
    splitting: false,
  },
]);
