import { FilterError } from './errors.js';
import { KEYWORDS, NAMED_NUMBERS, type Token, type TokenType } from './tokens.js';

/**
 * A token, or the lexical error libpcap's scanner reports at that point. The parser raises the error
 * only when it reaches the token, as libpcap's parser does.
 */
export type LexItem = Token | { type: 'ERROR'; error: FilterError };

const W = '[0-9A-Fa-f]{1,4}';
const N = '(?:0[xX][0-9A-Fa-f]+|[0-9]+)';
const V4 = `${N}\\.${N}\\.${N}\\.${N}`;

/** The IPv6 text forms libpcap's scanner accepts (each one a separate flex pattern). */
function ipv6Patterns(): RegExp[] {
  const forms: string[] = [];
  const groups = (n: number): string[] => Array.from({ length: n }, () => W);
  // full forms: 8 groups, or 6 groups and an embedded IPv4 address
  forms.push(groups(8).join(':'));
  forms.push(`${groups(6).join(':')}:${V4}`);
  // compressed forms: `::` between i leading and j trailing groups, i + j <= 7 (<= 5 with IPv4)
  for (let total = 0; total <= 7; total++) {
    for (let i = 0; i <= total; i++) {
      const j = total - i;
      const left = groups(i).join(':');
      const right = groups(j).join(':');
      forms.push(`${left}::${right}`);
    }
  }
  for (let total = 0; total <= 5; total++) {
    for (let i = 0; i <= total; i++) {
      const j = total - i;
      const left = groups(i).join(':');
      const right = groups(j)
        .map((g) => `${g}:`)
        .join('');
      forms.push(`${left}::${right}${V4}`);
    }
  }
  return forms.map((f) => new RegExp(f, 'y'));
}

const IPV6_FORMS = ipv6Patterns();
const RE_MAC = [
  /[0-9A-Fa-f]{1,2}:[0-9A-Fa-f]{1,2}:[0-9A-Fa-f]{1,2}:[0-9A-Fa-f]{1,2}:[0-9A-Fa-f]{1,2}:[0-9A-Fa-f]{1,2}/y,
  /[0-9A-Fa-f]{1,2}-[0-9A-Fa-f]{1,2}-[0-9A-Fa-f]{1,2}-[0-9A-Fa-f]{1,2}-[0-9A-Fa-f]{1,2}-[0-9A-Fa-f]{1,2}/y,
  /[0-9A-Fa-f]{1,2}\.[0-9A-Fa-f]{1,2}\.[0-9A-Fa-f]{1,2}\.[0-9A-Fa-f]{1,2}\.[0-9A-Fa-f]{1,2}\.[0-9A-Fa-f]{1,2}/y,
  /[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}/y,
  /[0-9A-Fa-f]{12}/y,
];
const RE_AID = /\$[0-9A-Fa-f]{1,2}/y;
const RE_NUM = new RegExp(N, 'y');
const RE_HID = [
  new RegExp(`${N}\\.${N}\\.${N}\\.${N}`, 'y'),
  new RegExp(`${N}\\.${N}\\.${N}`, 'y'),
  new RegExp(`${N}\\.${N}`, 'y'),
];
const RE_BOGUS_MAC = /[0-9A-Fa-f]{1,2}:+(?:[0-9A-Fa-f]{1,2}:+)+/y;
const RE_ID = /[A-Za-z0-9](?:[-_.A-Za-z0-9]*[.A-Za-z0-9])?/y;
const RE_ESCAPED_ID = /\\[^ !()\n\t]+/y;
const SINGLE = '+-*/%:[]!<>()&|^=';
const DOUBLE: Record<string, TokenType> = {
  '>=': 'GEQ',
  '<=': 'LEQ',
  '!=': 'NEQ',
  '==': '=',
  '<<': 'LSH',
  '>>': 'RSH',
  '&&': 'AND',
  '||': 'OR',
};
/** Words grouped by first character, so each position only tries the few that can match. */
function byFirstChar(words: Iterable<string>): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const w of words) m.set(w[0]!, [...(m.get(w[0]!) ?? []), w]);
  return m;
}
const KEYWORDS_BY_CHAR = byFirstChar([...KEYWORDS.keys()].filter((k) => /^[a-z]/.test(k)));
const NAMED_BY_CHAR = byFirstChar(NAMED_NUMBERS.keys());
const RE_V6_CHARS = /[0-9A-Fa-f:.]*/y;

function matchAt(re: RegExp, text: string, pos: number): number {
  re.lastIndex = pos;
  const m = re.exec(text);
  return m ? m[0].length : 0;
}

function longestOf(res: RegExp[], text: string, pos: number): number {
  let best = 0;
  for (const re of res) best = Math.max(best, matchAt(re, text, pos));
  return best;
}

function longestWord(words: string[] | undefined, text: string, pos: number): string | undefined {
  let best: string | undefined;
  for (const w of words ?? []) if (text.startsWith(w, pos) && (!best || w.length > best.length)) best = w;
  return best;
}

/**
 * Converts a NUM token like libpcap's `stou`: decimal, `0x` hex or leading-`0` octal, at most 32 bits.
 * @throws FilterError (lexical) on a non-octal digit or overflow.
 */
export function parseNumber(text: string, start = 0): number {
  const span = { start, end: start + text.length };
  let n = 0;
  if (text[0] === '0' && (text[1] === 'x' || text[1] === 'X')) {
    for (const c of text.slice(2)) {
      if (n > 0xfffffff) throw new FilterError('lexical', `number ${text} overflows 32 bits`, span);
      n = n * 16 + parseInt(c, 16);
    }
  } else if (text[0] === '0') {
    for (const c of text.slice(1)) {
      if (c < '0' || c > '7') throw new FilterError('lexical', `number ${text} contains non-octal digit`, span);
      if (n > 0o3777777777) throw new FilterError('lexical', `number ${text} overflows 32 bits`, span);
      n = n * 8 + (c.charCodeAt(0) - 48);
    }
  } else {
    for (const c of text) {
      const d = c.charCodeAt(0) - 48;
      if (n > 429496729 || (n === 429496729 && d > 5))
        throw new FilterError('lexical', `number ${text} overflows 32 bits`, span);
      n = n * 10 + d;
    }
  }
  return n >>> 0;
}

/** Whether glibc's `getaddrinfo(AI_NUMERICHOST)` would accept this IPv6 text (the scanner's check). */
function validIpv6(text: string): boolean {
  const v4 = /:([^:]*\.[^:]*)$/.exec(text);
  if (v4) {
    const parts = v4[1]!.split('.');
    if (parts.length !== 4) return false;
    for (const p of parts) {
      if (!/^[0-9]{1,3}$/.test(p) || Number(p) > 255 || (p.length > 1 && p[0] === '0')) return false;
    }
  }
  return true;
}

/**
 * Splits a filter expression into tokens exactly like libpcap 1.10's flex scanner: longest match,
 * ties resolved by rule order (keywords, operators, `$xx`, MAC, number, IPv4-ish, IPv6, bogus MAC,
 * named numbers, names). Stops at the first lexical error, which becomes the last item.
 */
export function tokenize(text: string): LexItem[] {
  const out: LexItem[] = [];
  let pos = 0;
  const push = (type: TokenType, len: number, num = 0, str?: string): void => {
    const t = text.slice(pos, pos + len);
    out.push({ type, text: t, num, str: str ?? t, span: { start: pos, end: pos + len } });
    pos += len;
  };
  const error = (kind: 'lexical' | 'syntax', reason: string, len: number): LexItem[] => {
    out.push({ type: 'ERROR', error: new FilterError(kind, reason, { start: pos, end: pos + len }) });
    return out;
  };
  while (pos < text.length) {
    const c = text[pos]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      pos++;
      continue;
    }
    // Candidates in flex rule order; the longest wins, the first listed wins a tie.
    let bestLen = 0;
    let best = Rule.None as Rule;
    const consider = (len: number, rule: Rule): void => {
      if (len > bestLen) {
        bestLen = len;
        best = rule;
      }
    };
    const hex = /[0-9A-Fa-f]/.test(c);
    const kw = longestWord(KEYWORDS_BY_CHAR.get(c), text, pos);
    if (kw) consider(kw.length, Rule.Keyword);
    const two = text.slice(pos, pos + 2);
    if (two === '&&' || two === '||') consider(2, Rule.Double);
    if (SINGLE.includes(c)) consider(1, Rule.Single);
    if (DOUBLE[two]) consider(2, Rule.Double);
    if (c === '$') consider(matchAt(RE_AID, text, pos), Rule.Aid);
    if (hex) {
      consider(longestOf(RE_MAC, text, pos), Rule.Mac);
      consider(matchAt(RE_NUM, text, pos), Rule.Num);
      consider(longestOf(RE_HID, text, pos), Rule.Hid);
    }
    if (hex || c === ':') {
      // IPv6 forms all contain ':' within the run of hex digits, colons and dots starting here.
      const run = matchAt(RE_V6_CHARS, text, pos);
      if (run > 1 && text.slice(pos, pos + run).includes(':')) consider(longestOf(IPV6_FORMS, text, pos), Rule.Ipv6);
      if (hex) consider(matchAt(RE_BOGUS_MAC, text, pos), Rule.BogusMac);
    }
    const named = longestWord(NAMED_BY_CHAR.get(c), text, pos);
    if (named) consider(named.length, Rule.Named);
    consider(matchAt(RE_ID, text, pos), Rule.Id);
    if (c === '\\') consider(matchAt(RE_ESCAPED_ID, text, pos), Rule.EscapedId);

    const word = text.slice(pos, pos + bestLen);
    switch (best) {
      case Rule.None:
        // flex's catch-all rule returns LEX_ERROR, which the grammar rejects as a syntax error.
        return error('syntax', "can't parse filter expression: syntax error", 1);
      case Rule.Keyword:
        push(KEYWORDS.get(word)!, bestLen);
        break;
      case Rule.Single:
        push(c as TokenType, 1);
        break;
      case Rule.Double:
        push(DOUBLE[word]!, 2);
        break;
      case Rule.Aid:
        push('AID', bestLen);
        break;
      case Rule.Mac:
        push('EID', bestLen);
        break;
      case Rule.Num: {
        let n: number;
        try {
          n = parseNumber(word, pos);
        } catch (e) {
          out.push({ type: 'ERROR', error: e as FilterError });
          return out;
        }
        push('NUM', bestLen, n);
        break;
      }
      case Rule.Hid:
        push('HID', bestLen);
        break;
      case Rule.Ipv6:
        if (!validIpv6(word)) return error('lexical', `bogus IPv6 address ${word}`, bestLen);
        push('HID6', bestLen);
        break;
      case Rule.BogusMac:
        return error('lexical', `bogus ethernet address ${word}`, bestLen);
      case Rule.Named:
        push('NUM', bestLen, NAMED_NUMBERS.get(word)!);
        break;
      case Rule.Id:
        push('ID', bestLen);
        break;
      case Rule.EscapedId:
        push('ID', bestLen, 0, word.slice(1));
        break;
    }
  }
  out.push({ type: 'EOF', text: '', num: 0, str: '', span: { start: text.length, end: text.length } });
  return out;
}

/** The scanner's rules, in flex order (earlier wins a tie). */
const enum Rule {
  None,
  Keyword,
  Single,
  Double,
  Aid,
  Mac,
  Num,
  Hid,
  Ipv6,
  BogusMac,
  Named,
  Id,
  EscapedId,
}
