/**
 * Properties that must hold for every input, checked on random expressions: compilation either
 * yields a valid classic BPF program or fails with a FilterError (never another exception), and the
 * boolean structure means what it says.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runFilter } from './cbpf/interpreter.js';
import { validateProgram } from './cbpf/validate.js';
import { loadPackets } from './cbpf/test-corpus.js';
import { compile } from './compile.js';
import { FilterError } from './lang/errors.js';
import { NameResolver } from './names/resolver.js';

const names = new NameResolver({
  services: 'http 80/tcp www\ndomain 53/tcp\ndomain 53/udp\n',
  protocols: 'tcp 6 TCP\nudp 17 UDP\n',
  hosts: '192.0.2.1 gw\n',
});

const WORDS = [
  'host',
  'net',
  'port',
  'portrange',
  'src',
  'dst',
  'and',
  'or',
  'not',
  '!',
  '(',
  ')',
  'tcp',
  'udp',
  'ip',
  'ip6',
  'arp',
  'ether',
  'proto',
  'protochain',
  'vlan',
  'mpls',
  'pppoes',
  'geneve',
  'llc',
  'less',
  'greater',
  'byte',
  'len',
  'broadcast',
  'multicast',
  'gateway',
  'mask',
  '1',
  '80',
  '0x10',
  '017',
  '089',
  '192.0.2.1',
  '192.0.2',
  '10.0.0.0/8',
  '2001:db8::1',
  '02:00:00:00:00:01',
  'ab:cd',
  '[',
  ']',
  ':',
  '=',
  '>',
  '<',
  '!=',
  '+',
  '-',
  '*',
  '/',
  '%',
  '^',
  '&',
  '|',
  '<<',
  '>>',
  'gw',
  'http',
  'foo',
  '\\tcp',
  'tcp-syn',
  'icmp-echo',
  'tcpflags',
  'icmp',
  'icmp6',
  'isis',
  'stp',
  'decnet',
  '1.2',
];

const PRIMITIVES = [
  'tcp',
  'udp',
  'icmp',
  'ip6',
  'arp',
  'host 192.0.2.1',
  'src net 10.0.0.0/8',
  'dst port 80',
  'portrange 1-1024',
  'ip[0] & 0xf > 5',
  'tcp[tcpflags] & tcp-syn != 0',
  'len > 100',
  'ether broadcast',
  'ip multicast',
  'vlan',
  'mpls 16',
  'pppoes',
  'geneve',
  'llc',
  'ip6 host 2001:db8::1',
  'ether src 02:00:00:00:00:0a',
  'icmp6[0] = 128',
  'udp[8:2] = 0',
];

describe('compile() on arbitrary input', () => {
  it('returns a valid program or throws FilterError, for any sequence of words', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...WORDS), { minLength: 0, maxLength: 10 }),
        fc.constantFrom('EN10MB', 'RAW'),
        (words, linktype) => {
          try {
            const p = compile(words.join(' '), { linktype: linktype as 'EN10MB' | 'RAW', optimize: false, names });
            validateProgram(p, { allowBackwardJumps: true, requireInitializedScratch: false });
          } catch (e) {
            if (!(e instanceof FilterError)) throw e;
          }
        },
      ),
      { numRuns: 2000, seed: 5 },
    );
  });

  it('never throws anything but FilterError on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        try {
          compile(text, { optimize: false, names });
        } catch (e) {
          if (!(e instanceof FilterError)) throw e;
        }
      }),
      { numRuns: 2000, seed: 6 },
    );
  });
});

describe('the boolean structure on the corpus packets', () => {
  const packets = loadPackets('EN10MB').map((p) => p.bytes);
  const verdicts = (expr: string): boolean[] => {
    const p = compile(expr, { optimize: false, names });
    return packets.map((b) => runFilter(p, b) !== 0);
  };
  // vlan/mpls/pppoes/geneve shift the offsets of everything after them (libpcap's semantics), so
  // repeating an expression that contains them is not idempotent; the identities use the rest.
  const plain = PRIMITIVES.filter((p) => !/vlan|mpls|pppoes|geneve/.test(p));
  const expr = fc.letrec((tie) => ({
    e: fc.oneof({ depthSize: 'small' }, fc.constantFrom(...plain), tie('and'), tie('or'), tie('not')),
    and: fc.tuple(tie('e'), tie('e')).map(([a, b]) => `(${a as string}) and (${b as string})`),
    or: fc.tuple(tie('e'), tie('e')).map(([a, b]) => `(${a as string}) or (${b as string})`),
    not: tie('e').map((a) => `not (${a as string})`),
  })).e as fc.Arbitrary<string>;

  it('E and E, E or E and (E) accept exactly what E accepts', () => {
    fc.assert(
      fc.property(expr, (e) => {
        const v = verdicts(e);
        expect(verdicts(`(${e}) and (${e})`)).toEqual(v);
        expect(verdicts(`(${e}) or (${e})`)).toEqual(v);
        expect(verdicts(`(${e})`)).toEqual(v);
      }),
      { numRuns: 60, seed: 7 },
    );
  });

  it('A or B accepts what A or B accepts, except where A aborts on a short packet', () => {
    fc.assert(
      fc.property(fc.constantFrom(...plain), fc.constantFrom(...plain), (a, b) => {
        const va = verdicts(a);
        const vb = verdicts(b);
        const vor = verdicts(`${a} or ${b}`);
        const vand = verdicts(`${a} and ${b}`);
        packets.forEach((_, i) => {
          if (vor[i] !== (va[i] || vb[i]) && !(va[i] === false && vb[i] === true))
            throw new Error(`${a} or ${b} on packet ${i}`);
          if (vand[i] && !(va[i] && vb[i])) throw new Error(`${a} and ${b} on packet ${i}`);
        });
      }),
      { numRuns: 80, seed: 8 },
    );
  });
});
