/**
 * `pwru --input-json FILE --output-sequence`: the per-packet view of a saved `--output-json`
 * trace, without tracing anything (no root, no BPF).
 */
import { writeSync } from 'node:fs';
import { PwruError } from '../errors.js';
import type { PwruOptions } from '../flags/spec.js';
import { PacketSequencer } from './group.js';
import { readJsonHops } from './input.js';
import { formatSequenceJson, formatSequenceText } from './view.js';
import { writeSequenceHtml } from './html.js';

/** Checks the flags of an offline run: it reads events, so it cannot filter or trace them. */
export function checkOfflineOptions(
  opts: Pick<PwruOptions, 'inputJson' | 'filterPcap' | 'outputSequence' | 'outputHtml'>,
): void {
  if (opts.filterPcap !== '') {
    throw new PwruError(
      `--input-json reads saved events, so a pcap filter cannot apply to them (got "${opts.filterPcap}"); filter when tracing, or drop the filter words`,
    );
  }
  if (!opts.outputSequence && opts.outputHtml === '')
    throw new PwruError('--input-json needs --output-sequence or --output-html (what to make of the saved events)');
}

/** Prints the view of the saved events to `out`; returns the exit status. */
export function runOffline(
  opts: Pick<PwruOptions, 'inputJson' | 'filterPcap' | 'outputSequence' | 'outputHtml' | 'outputJson'>,
  out: number,
): number {
  checkOfflineOptions(opts);
  const seq = new PacketSequencer();
  for (const h of readJsonHops(opts.inputJson)) seq.add(h);
  const stories = seq.result();
  if (opts.outputHtml !== '') writeSequenceHtml(opts.outputHtml, stories);
  if (!opts.outputSequence) return 0;
  const text = opts.outputJson ? formatSequenceJson(stories) : formatSequenceText(stories);
  const bytes = Buffer.from(text);
  let off = 0;
  while (off < bytes.length) off += writeSync(out, bytes, off, bytes.length - off);
  return 0;
}
