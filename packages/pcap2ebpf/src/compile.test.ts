import { describe, expect, it } from 'vitest';
import { formatListing } from './cbpf/print.js';
import { runFilter } from './cbpf/interpreter.js';
import { compile, compileFilter } from './compile.js';
import { FilterError } from './lang/errors.js';
import { NameResolver } from './names/resolver.js';

const names = new NameResolver({
  services: 'http 80/tcp www\ndomain 53/tcp\ndomain 53/udp\n',
  hosts: '192.0.2.1 gw\n',
});
const listing = (expr: string, opts: Parameters<typeof compile>[1] = {}): string[] =>
  formatListing(compile(expr, { names, optimize: false, ...opts }));
const failure = (expr: string, opts: Parameters<typeof compile>[1] = {}): FilterError => {
  try {
    compile(expr, { names, ...opts });
  } catch (e) {
    if (e instanceof FilterError) return e;
    throw e;
  }
  throw new Error(`${expr} compiled`);
};

describe('compile()', () => {
  it('compiles for Ethernet by default and for raw IP on request', () => {
    expect(listing('ip')).toEqual([
      '(000) ldh      [12]',
      '(001) jeq      #0x800           jt 2\tjf 3',
      '(002) ret      #262144',
      '(003) ret      #0',
    ]);
    expect(listing('ip', { linktype: 'RAW' })).toEqual([
      '(000) ldb      [0]',
      '(001) and      #0xf0',
      '(002) jeq      #0x40            jt 3\tjf 4',
      '(003) ret      #262144',
      '(004) ret      #0',
    ]);
  });

  it('accepts everything for the empty expression', () => {
    expect(listing('')).toEqual(['(000) ret      #262144']);
  });

  it('resolves names through the resolver it is given', () => {
    expect(listing('tcp port www')).toEqual(listing('tcp port 80'));
    expect(listing('host gw')).toEqual(listing('host 192.0.2.1'));
    expect(failure('host nosuchhost.invalid').reason).toBe("unknown host 'nosuchhost.invalid'");
  });

  it('optimizes by default, except where libpcap never does (protochain, geneve)', () => {
    const tcp80 = compileFilter('tcp dst port 80', { names });
    expect(tcp80.optimized).toBe(true);
    expect(tcp80.instructions.length).toBeLessThan(compile('tcp dst port 80', { names, optimize: false }).length);
    expect(compileFilter('ip protochain 6', { names }).optimized).toBe(false);
    expect(compileFilter('geneve', { names }).optimized).toBe(false);
  });

  it('fails like pcap_compile(optimize=1) on a filter that can never match', () => {
    expect(failure('arp', { linktype: 'RAW' }).reason).toBe('expression rejects all packets');
    // without the optimizer it is a constant-false program
    const p = compile('arp', { names, linktype: 'RAW', optimize: false });
    expect(runFilter(p, new Uint8Array(64))).toBe(0);
  });

  it("refuses 'ip broadcast' without a netmask, as pwru does, and uses one when given", () => {
    expect(failure('ip broadcast').reason).toBe("netmask not known, so 'ip broadcast' not supported");
    expect(listing('ip broadcast', { netmask: 0xffffff00 })).toContain('(003) and      #0xff');
  });

  it("reports libpcap's message with the position of the offending primitive", () => {
    const e = failure('tcp port 80 and udp port http');
    expect(e.reason).toBe("port 'http' is tcp");
    expect(e.kind).toBe('semantic');
    expect(e.span).toEqual({ start: 25, end: 29 });
    expect(e.message).toBe("port 'http' is tcp (at offset 25)");
    expect(failure('vlan 100', { linktype: 'RAW' }).reason).toBe('no VLAN support for Raw IP');
    expect(failure('ip[0] / 0 = 1').reason).toBe('division by zero');
  });

  it('orders errors as libpcap does when the scanner fails on the token after a primitive', () => {
    // the primitive is reduced first; a code-generator error overwrites the scanner's message...
    expect(failure('ip6 host 1.2.3.4 089').reason).toBe("'ip6' modifier applied to ip host");
    // ...a grammar action's error that needed that token does not...
    expect(failure('port 1.2.3.4 089').reason).toBe('number 089 contains non-octal digit');
    // ...and one made before the next token is read comes first anyway
    expect(failure('llc foo 089').reason).toBe('unknown LLC type name "foo"');
    expect(failure('host 1.2.3.4 or 089').reason).toBe('number 089 contains non-octal digit');
  });

  it('copes with very large filters: long branches get an extra ja, deep nesting is an error', () => {
    // 1500 ports: about 95000 instructions with many branches farther than 255 (checked against tcpdump -O -d)
    const ports = Array.from({ length: 1500 }, (_, i) => `port ${i + 1}`).join(' or ');
    const p = compile(ports, { names, optimize: false });
    expect(p.length).toBe(95942);
    expect(p.filter((i) => i.code === 0x05).length).toBe(17940);
    const deep = `${'('.repeat(5000)}tcp${')'.repeat(5000)}`;
    expect(failure(deep, { optimize: false }).reason).toBe(
      "can't parse filter expression: expression nested too deeply",
    );
  });

  it("keeps libpcap 1.10's bugs: a load-less `byte N & V` and the first-statement divisor check", () => {
    // (tcpdump -O -d prints exactly this: A is tested without being loaded)
    expect(listing('byte 3 & 1')).toEqual([
      '(000) and      #0x1',
      '(001) jeq      #0x0             jt 2\tjf 3',
      '(002) ret      #0',
      '(003) ret      #262144',
    ]);
    expect(failure('len / ip[0] > 0').reason).toBe('division by zero');
  });

  it('shifts every later offset after vlan, including other or-branches', () => {
    // the `ip` branch tests the ethertype at 16, behind a tag that may not be there (tcpdump -O -d)
    expect(listing('vlan 100 or ip').slice(6)).toEqual([
      '(006) ldh      [14]',
      '(007) and      #0xfff',
      '(008) jeq      #0x64            jt 11\tjf 9',
      '(009) ldh      [16]',
      '(010) jeq      #0x800           jt 11\tjf 12',
      '(011) ret      #262144',
      '(012) ret      #0',
    ]);
  });
});
