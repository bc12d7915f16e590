import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli-command.js';
import { generateSkeleton } from '../../src/object/skeleton.js';
import { OBJECT_DIR } from './core-checks.js';
import { importSkeleton } from './skeleton-helper.js';

function cli(...args: string[]) {
  let out = '';
  let err = '';
  const code = runCli(args, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

describe('bpf-loader-ts gen skeleton', () => {
  it('prints the generated module for an object', () => {
    const path = join(OBJECT_DIR, 'globals.bpf.o');
    const r = cli('gen', 'skeleton', path, '--class', 'Globals');
    expect(r.code).toBe(0);
    expect(r.out).toBe(generateSkeleton(readFileSync(path), path, { className: 'Globals' }));
    expect(r.out).toContain('readonly counts: TypedMap<number, bigint>;');
    expect(r.out).toContain('readonly stats: TypedMap<number, { "packets": bigint; "bytes": bigint }>;');
    expect(r.out).toContain('readonly xdp_count: Program;');
  });

  it('says what is wrong in one line', () => {
    for (const [args, pattern] of [
      [['gen'], /unknown command/],
      [['gen', 'skeleton'], /give the object file/],
      [['gen', 'skeleton', '/nonexistent.bpf.o'], /cannot read \/nonexistent\.bpf\.o: ENOENT/],
      [['gen', 'skeleton', join(OBJECT_DIR, 'core.bpf.c')], /not an ELF file/],
      [['gen', 'skeleton', 'x.o', '--class', '1x'], /not a TypeScript identifier/],
    ] as const) {
      const r = cli(...args);
      expect(r.code).not.toBe(0);
      expect(r.err).toMatch(pattern);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
  });

  it('writes modules that typecheck, with typed globals and maps', async () => {
    for (const o of ['globals.bpf.o', 'core.bpf.o', 'drops.bpf.o']) await importSkeleton(o);
    const usage = join(OBJECT_DIR, '.generated', 'usage.ts');
    writeFileSync(
      usage,
      [
        "import { GlobalsSkeleton } from './globals.skel.js';",
        'const s = GlobalsSkeleton.load({ globals: { verdict: 2, min_len: 14n } });',
        'const n: bigint | undefined = s.maps.counts.lookup(3);',
        's.maps.stats.update(0, { packets: 1n, bytes: 2n });',
        'const seen: bigint = s.bss.seen;',
        's.data_tuning.ratio = 4;',
        '// @ts-expect-error .rodata is read-only once loaded',
        's.rodata.verdict = 3;',
        '// @ts-expect-error min_len is a u64: a bigint',
        'GlobalsSkeleton.load({ globals: { min_len: 14 } });',
        'void n, seen;',
      ].join('\n'),
    );
    const tsc = join(OBJECT_DIR, '../../../../node_modules/.bin/tsc');
    execFileSync(
      tsc,
      [
        '--noEmit',
        '--strict',
        '--target',
        'es2022',
        '--module',
        'nodenext',
        '--skipLibCheck',
        '--types',
        'node',
        usage,
      ],
      {
        stdio: 'pipe',
      },
    );
  }, 120_000);
});
