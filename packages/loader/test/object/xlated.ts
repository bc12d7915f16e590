/**
 * Test oracle: load a BPF object with libbpf (`bpftool prog loadall`) and dump each program's
 * translated instructions, with map ids replaced by map names so two loads compare equal.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { mountBpffs } from '../../src/fs/mounts.js';

function bpftool<T = unknown>(...args: string[]): T {
  return JSON.parse(execFileSync('bpftool', ['--json', ...args], { encoding: 'utf8', maxBuffer: 1 << 28 })) as T;
}

function mapName(id: number): string {
  return bpftool<{ name: string }>('map', 'show', 'id', String(id)).name;
}

/** `bpftool prog dump xlated id N` with `map[id:M]` turned into `map[name]`. */
export function xlatedById(id: number): string {
  const text = execFileSync('bpftool', ['prog', 'dump', 'xlated', 'id', String(id)], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const names = new Map<string, string>();
  return text.replace(/map\[id:(\d+)\]/g, (_, m: string) => {
    if (!names.has(m)) names.set(m, mapName(Number(m)));
    return `map[${names.get(m)}]`;
  });
}

/** Loads an object with libbpf through bpftool and returns each program's normalized xlated dump by name. */
export function libbpfXlated(objectPath: string): Map<string, string> {
  const root = mountBpffs().path;
  const dir = mkdtempSync(join(root, 'xlated-'));
  rmSync(dir, { recursive: true });
  try {
    execFileSync('bpftool', ['prog', 'loadall', objectPath, dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    const out = new Map<string, string>();
    for (const name of readdirSync(dir)) {
      const info = bpftool<{ id: number; name: string }>('prog', 'show', 'pinned', join(dir, name));
      out.set(name, xlatedById(info.id));
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
