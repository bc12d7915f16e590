/**
 * `--input-json FILE`: events saved with `--output-json` (one object per line; `-` reads
 * stdin). The summary line pwru appends (`{"summary":...}`) and blank lines are skipped.
 */
import { readFileSync } from 'node:fs';
import { PwruError } from '../errors.js';
import { type Hop, hopFromJson } from './hop.js';

/** Reads the hops of a saved `--output-json` trace. */
export function readJsonHops(file: string): Hop[] {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new PwruError(`cannot read the --input-json file ${file}: ${(e as Error).message}`);
  }
  return parseJsonHops(text, file);
}

/** Parses `--output-json` lines; `name` names the source in errors. */
export function parseJsonHops(text: string, name: string): Hop[] {
  const hops: Hop[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      throw new PwruError(
        `${name}:${i + 1}: not JSON; --input-json reads what pwru --output-json wrote, one event per line`,
      );
    }
    if (typeof o === 'object' && o !== null && 'summary' in o) continue;
    hops.push(hopFromJson(o, `${name}:${i + 1}`));
  }
  return hops;
}
