/** Errors raised while lowering classic BPF to eBPF; one line each, saying what to change. */

import { Pcap2EbpfError } from '../errors.js';

/** The cBPF program uses something the eBPF lowering cannot express. */
export class LoweringError extends Pcap2EbpfError {
  override name = 'LoweringError';
  /** Index of the offending cBPF instruction, or -1 for a whole-program problem. */
  readonly index: number;
  constructor(index: number, message: string) {
    super(index >= 0 ? `cBPF instruction ${index}: ${message}` : message);
    this.index = index;
  }
}
