import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSkeleton } from '../../src/object/skeleton.js';
import { OBJECT_DIR } from './core-checks.js';

/** Writes the skeleton of an object under test/object/.generated and imports it. */
export async function importSkeleton(object: string): Promise<Record<string, unknown>> {
  const dir = join(OBJECT_DIR, '.generated');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, object.replace(/\.bpf\.o$/, '.skel.ts'));
  const src = generateSkeleton(readFileSync(join(OBJECT_DIR, object)), object, { importFrom: '../../../src/index.js' });
  writeFileSync(file, src);
  return (await import(file)) as Record<string, unknown>;
}
