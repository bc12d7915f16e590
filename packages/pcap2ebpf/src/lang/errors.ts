import { Pcap2EbpfError } from '../errors.js';

/** A span of the filter text: `start` inclusive, `end` exclusive, both UTF-16 offsets. */
export interface Span {
  start: number;
  end: number;
}

/**
 * Why a filter failed to compile:
 * - `syntax`: the text is not a pcap-filter expression (libpcap: "can't parse filter expression: syntax error");
 * - `lexical`: a token is malformed (octal digit 8, 33-bit number, bogus MAC or IPv6 address);
 * - `semantic`: the expression parses but cannot be compiled (unknown name, bad qualifier, link type limits).
 */
export type FilterErrorKind = 'syntax' | 'lexical' | 'semantic';

/**
 * A filter expression that cannot be compiled. `message` is libpcap's message (same meaning, same words
 * where libpcap has them); `span` locates the offending part of the expression when it is known.
 */
export class FilterError extends Pcap2EbpfError {
  /** Which stage rejected the expression. */
  readonly kind: FilterErrorKind;
  /** libpcap's message, without position. */
  readonly reason: string;
  /** Where in the expression, when known. */
  readonly span: Span | undefined;

  constructor(kind: FilterErrorKind, reason: string, span?: Span) {
    super(span ? `${reason} (at offset ${span.start})` : reason);
    this.name = 'FilterError';
    this.kind = kind;
    this.reason = reason;
    this.span = span;
  }
}

/**
 * An error libpcap raises in a grammar action that runs only after the scanner has read the next
 * token (`'port' modifier applied to ip host`), rather than in its code generator: when the scanner
 * reported an error for that token, libpcap keeps the scanner's message, and so does this compiler.
 */
export class GrammarActionError extends FilterError {}

/** The message libpcap gives for every grammar violation. */
export const SYNTAX_ERROR = "can't parse filter expression: syntax error";
