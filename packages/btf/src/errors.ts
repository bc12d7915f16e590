/**
 * Errors thrown by btf-parser. Every error has a one-line message that says what was wrong
 * and, for malformed input, where. All derive from {@link BtfError}, so one `instanceof BtfError`
 * catches whatever the input caused; a caller's own misuse of an API (an argument outside its
 * documented range) is a `TypeError` or `RangeError`, as in Node's own APIs.
 */

/**
 * The root of btf-parser's errors; thrown itself for a malformed BTF blob: bad header, truncated
 * section, out-of-range id or string offset, cycle.
 */
export class BtfError extends Error {
  override name = 'BtfError';
  /** Byte offset into the blob where the problem was found, when known. */
  readonly offset: number | undefined;

  constructor(message: string, offset?: number) {
    super(offset === undefined ? message : `${message} (at byte offset ${offset})`);
    this.offset = offset;
  }
}

/** A query asked for a type, member, enumerator or function that the BTF does not contain. */
export class BtfNotFoundError extends BtfError {
  override name = 'BtfNotFoundError';
}

/** No kernel BTF could be found or read; the message names every path that was tried. */
export class KernelBtfNotFoundError extends BtfError {
  override name = 'KernelBtfNotFoundError';
  /** Every path that was tried, in order. */
  readonly tried: readonly string[];

  constructor(tried: readonly string[], detail?: string) {
    super(
      `no kernel BTF found${detail ? ` (${detail})` : ''}; tried ${tried.join(', ')}; ` +
        'pass a BTF file explicitly (raw BTF or an ELF vmlinux with a .BTF section)',
    );
    this.tried = tried;
  }
}
