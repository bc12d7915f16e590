import { PwruError } from '../errors.js';
/**
 * Value parsers with Go's strconv/pflag semantics, so `pwru --filter-kprobe-batch=0x10` or
 * `--output-meta=F` mean what they mean to upstream pwru, and bad values fail with the same words.
 */

/** A value a flag cannot take; `message` is the strconv-style reason (`strconv.ParseUint: ...`). */
export class FlagValueError extends PwruError {
  override name = 'FlagValueError';
}

const TRUE_WORDS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_WORDS = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go's `strconv.ParseBool`. */
export function parseGoBool(s: string): boolean {
  if (TRUE_WORDS.has(s)) return true;
  if (FALSE_WORDS.has(s)) return false;
  throw new FlagValueError(`strconv.ParseBool: parsing ${goQuote(s)}: invalid syntax`);
}

function digitsOf(s: string): { body: string; radix: number } | undefined {
  let body = s;
  let radix = 10;
  if (/^0[xX]/.test(body)) {
    radix = 16;
    body = body.slice(2);
  } else if (/^0[bB]/.test(body)) {
    radix = 2;
    body = body.slice(2);
  } else if (/^0[oO]/.test(body)) {
    radix = 8;
    body = body.slice(2);
  } else if (/^0[0-7_]/.test(body)) {
    radix = 8;
    body = body.slice(1);
  }
  // Go allows underscores only between digits with a base prefix; keep it simple: only digits.
  const re = radix === 16 ? /^[0-9a-fA-F]+$/ : radix === 8 ? /^[0-7]+$/ : radix === 2 ? /^[01]+$/ : /^[0-9]+$/;
  if (!re.test(body)) return undefined;
  return { body, radix };
}

/** Go's `strconv.ParseUint(s, 0, bits)`: base prefixes 0x, 0o, 0b and leading-0 octal. */
export function parseGoUint(s: string, bits: 8 | 16 | 32 | 64): bigint {
  const d = digitsOf(s);
  if (!d) throw new FlagValueError(`strconv.ParseUint: parsing ${goQuote(s)}: invalid syntax`);
  const prefix = d.radix === 16 ? '0x' : d.radix === 8 ? '0o' : d.radix === 2 ? '0b' : '';
  const v = BigInt(prefix + d.body);
  if (v >= 1n << BigInt(bits)) throw new FlagValueError(`strconv.ParseUint: parsing ${goQuote(s)}: value out of range`);
  return v;
}

/** Go's `strconv.ParseInt(s, 0, 64)`. */
export function parseGoInt(s: string): bigint {
  const neg = s.startsWith('-');
  const rest = neg || s.startsWith('+') ? s.slice(1) : s;
  const d = digitsOf(rest);
  if (!d) throw new FlagValueError(`strconv.ParseInt: parsing ${goQuote(s)}: invalid syntax`);
  const prefix = d.radix === 16 ? '0x' : d.radix === 8 ? '0o' : d.radix === 2 ? '0b' : '';
  const v = BigInt(prefix + d.body) * (neg ? -1n : 1n);
  if (v >= 1n << 63n || v < -(1n << 63n)) {
    throw new FlagValueError(`strconv.ParseInt: parsing ${goQuote(s)}: value out of range`);
  }
  return v;
}

/**
 * pflag's `readAsCSV`: a string-list flag value is one CSV record, so `a,b` gives two items and
 * `"a,b",c` gives `a,b` and `c`. An empty value gives no items.
 */
export function parseCsvRecord(s: string): string[] {
  if (s === '') return [];
  const out: string[] = [];
  let i = 0;
  while (i <= s.length) {
    if (s[i] === '"') {
      let field = '';
      i++;
      for (;;) {
        if (i >= s.length)
          throw new FlagValueError(`parse error on line 1, column ${i + 1}: extraneous or missing " in quoted-field`);
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += s[i++];
      }
      if (i < s.length && s[i] !== ',') {
        throw new FlagValueError(`parse error on line 1, column ${i + 1}: extraneous or missing " in quoted-field`);
      }
      out.push(field);
      i++;
    } else {
      const comma = s.indexOf(',', i);
      const end = comma < 0 ? s.length : comma;
      const field = s.slice(i, end);
      if (field.includes('"'))
        throw new FlagValueError(
          `parse error on line 1, column ${i + field.indexOf('"') + 1}: bare " in non-quoted-field`,
        );
      out.push(field);
      i = end + 1;
    }
  }
  return out;
}

/** Go's `%q` for the strings a user types (ASCII printable plus the usual escapes). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}
