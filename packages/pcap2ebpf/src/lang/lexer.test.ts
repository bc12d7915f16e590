import { describe, expect, it } from 'vitest';
import { FilterError } from './errors.js';
import { parseNumber, tokenize, type LexItem } from './lexer.js';

const types = (s: string): string[] => tokenize(s).map((t) => t.type);
const tok = (s: string, i = 0): LexItem => tokenize(s)[i]!;
const lexError = (s: string): string => {
  const last = tokenize(s).at(-1)!;
  if (last.type !== 'ERROR') throw new Error(`no error in ${s}`);
  return last.error.reason;
};

describe('the scanner (libpcap 1.10 scanner.l)', () => {
  it('recognises keywords in lower case only; anything else is a name', () => {
    expect(types('tcp port 80')).toEqual(['TCP', 'PORT', 'NUM', 'EOF']);
    expect(types('TCP')).toEqual(['ID', 'EOF']);
    expect(types('ether fddi tr wlan ppp slip link')).toEqual([...Array(7).fill('LINK'), 'EOF']);
    expect(types('not ! and && or ||')).toEqual(['!', '!', 'AND', 'AND', 'OR', 'OR', 'EOF']);
  });

  it('takes the longest match, so names swallow dashes and keyword prefixes', () => {
    expect(types('ip6x')).toEqual(['ID', 'EOF']);
    expect(types('80-90')).toEqual(['ID', 'EOF']);
    expect(types('len-1')).toEqual(['ID', 'EOF']);
    expect(types('len -1')).toEqual(['LEN', '-', 'NUM', 'EOF']);
    expect(types('es-is is-is')).toEqual(['ESIS', 'ISIS', 'EOF']);
    expect(types('1.2.3.4.5')).toEqual(['ID', 'EOF']);
  });

  it('reads decimal, hex and octal numbers of at most 32 bits', () => {
    expect(parseNumber('80')).toBe(80);
    expect(parseNumber('0x50')).toBe(80);
    expect(parseNumber('0120')).toBe(80);
    expect(parseNumber('4294967295')).toBe(0xffffffff);
    expect(lexError('port 089')).toBe('number 089 contains non-octal digit');
    expect(lexError('4294967296')).toBe('number 4294967296 overflows 32 bits');
    expect(lexError('0x100000000')).toBe('number 0x100000000 overflows 32 bits');
  });

  it('knows the named constants as numbers', () => {
    expect(tok('tcp-syn')).toMatchObject({ type: 'NUM', num: 2 });
    expect(tok('icmp-echoreply')).toMatchObject({ type: 'NUM', num: 0 });
    expect(tok('icmp6-neighborsolicit')).toMatchObject({ type: 'NUM', num: 135 });
    expect(tok('tcpflags')).toMatchObject({ type: 'NUM', num: 13 });
    expect(types('tcp-foo')).toEqual(['ID', 'EOF']);
  });

  it('reads IPv4-ish, IPv6 and MAC addresses', () => {
    expect(types('192.0.2 192.0.2.1 999.1.1.1')).toEqual(['HID', 'HID', 'HID', 'EOF']);
    expect(types('2001:db8::1 ::ffff:192.0.2.1 ::')).toEqual(['HID6', 'HID6', 'HID6', 'EOF']);
    for (const mac of [
      '02:00:00:00:00:0a',
      '02-00-00-00-00-0a',
      '02.00.00.00.00.0a',
      '0200.0000.000a',
      '02000000000a',
    ]) {
      expect(tok(mac)).toMatchObject({ type: 'EID', str: mac });
    }
    expect(tok('$0a')).toMatchObject({ type: 'AID' });
  });

  it('reports bogus MAC and IPv6 addresses where libpcap does', () => {
    expect(lexError('ether host 02:00:00:00:00')).toBe('bogus ethernet address 02:00:00:00:');
    expect(lexError('ip[0:2:3] = 1')).toBe('bogus ethernet address 0:2:');
    expect(lexError('host ::1.2.3.999')).toBe('bogus IPv6 address ::1.2.3.999');
  });

  it('lets a backslash turn a keyword into a name', () => {
    expect(tok('\\tcp')).toMatchObject({ type: 'ID', str: 'tcp' });
  });

  it('gives every token its position', () => {
    expect(tokenize('tcp  port 80').map((t) => (t.type === 'ERROR' ? null : t.span))).toEqual([
      { start: 0, end: 3 },
      { start: 5, end: 9 },
      { start: 10, end: 12 },
      { start: 12, end: 12 },
    ]);
    const last = tokenize('port 089').at(-1)!;
    expect(last.type === 'ERROR' && last.error).toBeInstanceOf(FilterError);
    expect(last.type === 'ERROR' && last.error.span).toEqual({ start: 5, end: 8 });
  });

  it('rejects characters outside the language as a syntax error', () => {
    expect(lexError('ip[0] @ 1')).toBe("can't parse filter expression: syntax error");
  });
});
