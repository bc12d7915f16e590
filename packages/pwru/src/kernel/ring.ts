import { type BpfMap, RingBufReader } from 'bpf-loader-ts';
import type { RingReader } from './session.js';

/** The events ring buffer, read in place (zero copy) as records arrive. */
export function openRingReader(events: BpfMap): RingReader & { readonly reader: RingBufReader } {
  const reader = new RingBufReader(events);
  return {
    reader,
    subscribe: (each, onBatch) => reader.subscribe(each, () => onBatch()),
    consume: (each, max) => reader.consume(each, max),
    wait: () => reader.wait(),
    close: () => reader.close(),
  };
}
