/**
 * Headless Chromium as a test oracle for `--output-html`: the DOM after the page's script ran,
 * and a screenshot. Used by tests only (chromium is in tools/deps/apt-packages).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = 'chromium';
// No sandbox (tests run as root), no GPU, nothing from the network, a private profile.
const COMMON = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--proxy-server=127.0.0.1:9',
  '--virtual-time-budget=3000',
];

/** Whether Chromium can be run. */
export function haveChromium(): boolean {
  return spawnSync(BIN, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** What Chromium made of a page. */
export interface Rendered {
  /** The serialized DOM after scripts ran (`--dump-dom`). */
  readonly dom: string;
  /** A PNG screenshot of the window. */
  readonly png: Buffer;
}

/** Loads `file` in headless Chromium: its rendered DOM and a `width`x`height` screenshot. */
export function renderInChromium(file: string, width = 1280, height = 720, hash = ''): Rendered {
  const profile = mkdtempSync(join(tmpdir(), 'pwru-chromium-'));
  try {
    const url = `file://${file}${hash}`;
    const dump = spawnSync(BIN, [...COMMON, `--user-data-dir=${profile}`, '--dump-dom', url], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      timeout: 120_000,
    });
    if (dump.status !== 0) throw new Error(`chromium --dump-dom failed (${dump.status}): ${dump.stderr}`);
    const shot = join(profile, 'shot.png');
    const s = spawnSync(
      BIN,
      [...COMMON, `--user-data-dir=${profile}`, `--window-size=${width},${height}`, `--screenshot=${shot}`, url],
      { encoding: 'utf8', timeout: 120_000 },
    );
    if (s.status !== 0) throw new Error(`chromium --screenshot failed (${s.status}): ${s.stderr}`);
    return { dom: dump.stdout, png: readFileSync(shot) };
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Width and height from a PNG's IHDR chunk. */
export function pngSize(png: Buffer): { width: number; height: number } {
  if (png.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('not a PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
