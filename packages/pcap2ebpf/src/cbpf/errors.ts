/** Errors raised by the classic BPF modules; each message is one line that says what is wrong. */

import { Pcap2EbpfError } from '../errors.js';

/** Base class of every cBPF error. */
export class CbpfError extends Pcap2EbpfError {
  override name = 'CbpfError';
}

/** Bytes that are not a whole number of 8-byte `struct sock_filter` records. */
export class SockFilterDecodeError extends CbpfError {
  override name = 'SockFilterDecodeError';
}

/** A program that breaks a classic BPF validity rule; `index` is the offending instruction. */
export class CbpfValidationError extends CbpfError {
  override name = 'CbpfValidationError';
  /** Index of the offending instruction, or -1 for a whole-program problem. */
  readonly index: number;
  constructor(index: number, message: string) {
    super(index >= 0 ? `cBPF instruction ${index}: ${message}` : `cBPF program: ${message}`);
    this.index = index;
  }
}

/** The interpreter ran more steps than allowed (a loop that does not terminate). */
export class CbpfStepLimitError extends CbpfError {
  override name = 'CbpfStepLimitError';
}
