// Test fixture: spawn a tracer child, SIGKILL it, and ask bpftool what is left.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { haveBpftoolBtf } from './bpftool-btf.js';

/** The child script. */
const child = fileURLToPath(new URL('./fixtures/sigkill-child.mjs', import.meta.url));
/** Whether dist/ exists (the child imports the built package). */
export const built = existsSync(fileURLToPath(new URL('../dist/index.js', import.meta.url)));
/** Whether bpftool, the oracle, is installed. */
export const bpftool = haveBpftoolBtf();

/** Whether bpftool sees a program or link with this id. */
export function exists(kind: 'prog' | 'link', id: number): boolean {
  try {
    execFileSync('bpftool', [kind, 'show', 'id', String(id)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Spawns the child in `mode`, SIGKILLs it once attached, and waits until its objects are gone. */
export async function killAttachedChild(
  mode: 'tp_btf' | 'kprobe',
): Promise<{ ids: { prog: number; link: number }; before: boolean[]; after: boolean[] }> {
  const p = spawn(process.execPath, [child, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ids = await new Promise<{ prog: number; link: number }>((resolve, reject) => {
    let buf = '';
    p.stdout.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) resolve(JSON.parse(buf));
    });
    p.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
  });
  const alive = () => [ids.link ? exists('link', ids.link) : false, exists('prog', ids.prog)];
  const before = alive();
  const exited = new Promise((r) => p.on('exit', r));
  p.kill('SIGKILL');
  await exited;
  // The kernel frees programs after an RCU grace period: poll briefly.
  for (let i = 0; i < 100 && alive().some(Boolean); i++) await new Promise((r) => setTimeout(r, 100));
  return { ids, before, after: alive() };
}
