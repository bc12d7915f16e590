import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { haveBpftoolBtf } from '../../test/bpftool-btf.js';

const child = fileURLToPath(new URL('../../test/fixtures/sigkill-child.mjs', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../../dist/index.js', import.meta.url)));
if (!built) console.warn('skipping SIGKILL test: build the package first (npx tsup), the child process imports dist/');
const bpftool = haveBpftoolBtf();
if (!bpftool) console.warn('skipping SIGKILL test: bpftool (the oracle for what is loaded) is not installed');

function exists(kind: 'prog' | 'link', id: number): boolean {
  try {
    execFileSync('bpftool', [kind, 'show', 'id', String(id)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!built || !bpftool)('nothing outlives the process', () => {
  it('SIGKILL of a tracer leaves no program and no link behind', async () => {
    const p = spawn(process.execPath, [child], { stdio: ['ignore', 'pipe', 'inherit'] });
    const ids = await new Promise<{ prog: number; link: number }>((resolve, reject) => {
      let buf = '';
      p.stdout.on('data', (d) => {
        buf += d;
        if (buf.includes('\n')) resolve(JSON.parse(buf));
      });
      p.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    expect(exists('link', ids.link)).toBe(true);
    expect(exists('prog', ids.prog)).toBe(true);
    const exited = new Promise((r) => p.on('exit', r));
    p.kill('SIGKILL');
    await exited;
    // The kernel frees programs after an RCU grace period: poll briefly.
    for (let i = 0; i < 50 && (exists('link', ids.link) || exists('prog', ids.prog)); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(exists('link', ids.link)).toBe(false);
    expect(exists('prog', ids.prog)).toBe(false);
  });
});
