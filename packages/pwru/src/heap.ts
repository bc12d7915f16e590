/**
 * The young generation's size through start-up: V8 doubles it (up to 16 MiB a semi-space) while
 * a program allocates fast, and start-up does (BTF, generated programs), but that memory then
 * stays resident for a trace that may print nothing. Start-up runs with the young generation kept
 * at its initial size; once attached it may grow again, so a busy trace prints as fast as before.
 */
import v8 from 'node:v8';

/** V8's own default growth factor (`node --v8-options`). */
const DEFAULT_GROWTH = 2;

/** Keeps the young generation at its initial size (call first thing). */
export function holdYoungGeneration(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}

/** Lets the young generation grow as V8 would by default (call once attached). */
export function releaseYoungGeneration(): void {
  v8.setFlagsFromString(`--semi-space-growth-factor=${DEFAULT_GROWTH}`);
}
