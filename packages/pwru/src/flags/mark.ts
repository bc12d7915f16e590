import { FlagValueError, goQuote, parseGoUint } from './values.js';

/** A `--filter-mark` value: packets match when `(skb->mark & mask) === mark`; mask 0 disables it. */
export interface MarkFilter {
  /** The mark, already ANDed with `mask` (as upstream stores it). */
  readonly mark: number;
  /** The mask; 0 means "no mark filter". */
  readonly mask: number;
}

/** The default `--filter-mark`: no filtering. */
export const NO_MARK_FILTER: MarkFilter = { mark: 0, mask: 0 };

function parseHexOrDecimal(whole: string, part: string): number {
  try {
    if (/^0[xX]/.test(part)) {
      const hex = part.slice(2);
      if (!/^[0-9a-fA-F]+$/.test(hex))
        throw new FlagValueError(`strconv.ParseUint: parsing ${goQuote(hex)}: invalid syntax`);
      return Number(parseGoUint('0x' + hex, 32));
    }
    if (!/^[0-9]+$/.test(part)) throw new FlagValueError(`strconv.ParseUint: parsing ${goQuote(part)}: invalid syntax`);
    return Number(parseGoUint(part.replace(/^0+(?=\d)/, ''), 32));
  } catch (e) {
    throw new FlagValueError(`invalid mark value ${goQuote(whole)}: ${(e as Error).message}`);
  }
}

/**
 * Parses `mark[/mask]` (each part decimal, or hex with `0x`). Without a mask the match is exact
 * (mask `0xffffffff`), so `--filter-mark 0` means "mark must be 0".
 */
export function parseMark(s: string): MarkFilter {
  const parts = s.split('/');
  if (parts.length > 2) throw new FlagValueError(`invalid mark value ${goQuote(s)}: expected mark[/mask]`);
  const mark = parseHexOrDecimal(s, parts[0]!);
  const mask = parts.length === 2 ? parseHexOrDecimal(s, parts[1]!) : 0xffffffff;
  return { mark: (mark & mask) >>> 0, mask: mask >>> 0 };
}

/** Upstream's `String()` of a mark value: `0x<mark>/0x<mask>` in lowercase hex. */
export function formatMark(m: MarkFilter): string {
  return `0x${m.mark.toString(16)}/0x${m.mask.toString(16)}`;
}
