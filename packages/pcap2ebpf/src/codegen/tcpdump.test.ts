/**
 * Differential test against the real thing: random expressions (seeded, so reproducible) compiled by
 * `tcpdump -O -ddd` and by us must give the same program or the same error. Skipped where tcpdump is
 * not installed. Names resolve from this machine's /etc on both sides.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { FilterError } from '../lang/errors.js';
import { NameResolver } from '../names/resolver.js';
import { generate } from './generate.js';

function tcpdumpVersion(): string | undefined {
  try {
    return execFileSync('tcpdump', ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  } catch {
    return undefined;
  }
}
const version = tcpdumpVersion();
const usable = version !== undefined && /libpcap version 1\.10\./.test(version);
if (!usable)
  console.log(
    `skipping the tcpdump differential test: needs tcpdump with libpcap 1.10 (found: ${version?.split('\n')[0] ?? 'none'})`,
  );

/** A tiny deterministic PRNG. */
function rng(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s % n;
  };
}

function expressions(seed: number, count: number): Array<{ expr: string; linktype: 'EN10MB' | 'RAW' }> {
  const rnd = rng(seed);
  const pick = <T>(a: readonly T[]): T => a[rnd(a.length)]!;
  const prims: Array<() => string> = [
    () =>
      `${pick(['', 'src ', 'dst ', 'src or dst ', 'src and dst '])}host ${pick(['192.0.2.1', '10', '192.0.2', '2001:db8::1', 'fe80::1'])}`,
    () =>
      `${pick(['', 'ip ', 'arp ', 'rarp ', 'ip6 ', 'tcp ', 'ether '])}${pick(['src ', 'dst ', ''])}net ${pick(['10.0.0.0/8', '192.168', '172.16.0.0 mask 255.240.0.0', '2001:db8::/32', '0.0.0.0/0'])}`,
    () =>
      `${pick(['', 'tcp ', 'udp ', 'sctp '])}${pick(['src ', 'dst ', ''])}${pick(['port', 'portrange'])} ${pick(['80', '53', '1-1024', '0', '65535', '70000'])}`,
    () =>
      pick([
        'tcp',
        'udp',
        'icmp',
        'icmp6',
        'ip',
        'ip6',
        'arp',
        'rarp',
        'igmp',
        'pim',
        'vrrp',
        'ah',
        'esp',
        'sctp',
        'stp',
        'ipx',
        'netbeui',
        'atalk',
        'aarp',
        'decnet',
        'lat',
        'iso',
        'isis',
        'esis',
        'clnp',
        'l1',
        'l2',
        'iih',
        'lsp',
        'snp',
        'csnp',
        'psnp',
        'mopdl',
        'moprc',
        'sca',
      ]),
    () =>
      `${pick(['ip', 'ip6', 'tcp', 'udp', 'icmp', 'icmp6', 'ether', 'arp', 'link'])}[${pick(['0', '2', 'tcpflags', 'len - 4', 'ip[0] & 0xf'])}${pick(['', ':1', ':2', ':4', ':3'])}] ${pick(['=', '!=', '>', '<', '>=', '<='])} ${pick(['0', '1', '0x45', 'len', '2 * 3 % 4'])}`,
    () =>
      `${pick(['len', 'ip[2:2]', '1 + 2', '-len', 'len / 2', 'ip[0] >> 2', 'len % 0'])} ${pick(['>', '<=', '='])} ${pick(['100', 'ip[3] ^ 1 & 3', '4 << 2 | 1'])}`,
    () =>
      pick([
        'vlan',
        'vlan 100',
        'mpls',
        'mpls 16',
        'pppoes',
        'pppoes 3',
        'pppoed',
        'geneve',
        'geneve 5',
        'llc',
        'llc i',
        'llc ui',
        'llc rr',
      ]),
    () =>
      pick([
        'broadcast',
        'multicast',
        'ip multicast',
        'ip6 multicast',
        'ether broadcast',
        'less 100',
        'greater 60',
        'byte 3 = 4',
        'byte 2 > 1',
        'byte 5 < 9',
        'inbound',
        'outbound',
        'ifindex 3',
      ]),
    () => `${pick(['ip ', 'ip6 ', ''])}${pick(['proto', 'protochain'])} ${pick(['6', '17', '\\tcp', '\\udp', '58'])}`,
    () =>
      `ether ${pick(['proto', 'src', 'dst', 'host'])} ${pick(['\\ip', '\\arp', '0x0800', '02:00:00:00:00:01', '\\iso', '100', '\\ipx', '\\atalk', '\\aarp'])}`,
    () => `decnet ${pick(['src', 'dst', 'host'])} ${pick(['1.2', '10.5'])}`,
  ];
  const tokens = [
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
    'ether',
    'proto',
    '1',
    '80',
    '0x10',
    '089',
    '192.0.2.1',
    '192.0.2',
    '2001:db8::1',
    '02:00:00:00:00:01',
    'ab:cd',
    '[',
    ']',
    ':',
    '=',
    '>',
    '<',
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
    'len',
    'vlan',
    'mpls',
    'mask',
    '255.255.0.0',
    '24',
    'foo',
    'less',
    'byte',
    'broadcast',
    'gateway',
    'llc',
    'i',
    '\\tcp',
    '999.1.1.1',
    'icmp-echo',
    'tcp-syn',
    'tcpflags',
  ];
  const expr = (d: number): string => {
    const r = rnd(10);
    if (d > 2 || r < 4) return pick(prims)();
    if (r < 5) return `not ${expr(d + 1)}`;
    if (r < 6) return `(${expr(d + 1)})`;
    if (r < 7) return `${expr(d + 1)} ${pick(['and', 'or'])} ${pick(['10.1.1.1', '80', '(1 or 2)'])}`;
    return `${expr(d + 1)} ${pick(['and', 'or', '&&', '||'])} ${expr(d + 1)}`;
  };
  const soup = (): string => Array.from({ length: 2 + rnd(6) }, () => pick(tokens)).join(' ');
  return Array.from({ length: count }, (_, i) => ({
    expr: i % 2 ? soup() : expr(0),
    linktype: pick(['EN10MB', 'RAW'] as const),
  }));
}

function viaTcpdump(expr: string, linktype: string): string {
  try {
    const out = execFileSync('tcpdump', ['-O', '-ddd', '-y', linktype, '--', expr], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return out.toString().trim().split('\n').slice(1).join('|');
  } catch (e) {
    const err = (e as { stderr?: Buffer }).stderr?.toString() ?? '';
    return `error: ${err
      .split('\n')
      .filter((l) => l.startsWith('tcpdump: '))
      .join(' ')
      .replace(/^tcpdump: /, '')}`;
  }
}

describe.skipIf(!usable)('against tcpdump -O -ddd (libpcap 1.10)', () => {
  const names = NameResolver.fromDirectory('/etc');
  it('gives the same program or the same error for 400 random expressions', () => {
    const diffs: string[] = [];
    for (const { expr, linktype } of expressions(20261122, 400)) {
      const want = viaTcpdump(expr, linktype);
      let got: string;
      try {
        got = generate(expr, { linktype, snaplen: 262144, netmask: 0, names })
          .program.map((i) => `${i.code} ${i.jt} ${i.jf} ${i.k}`)
          .join('|');
      } catch (e) {
        if (!(e instanceof FilterError)) throw e;
        got = `error: ${e.reason.trimEnd()}`;
      }
      if (got !== want.trimEnd())
        diffs.push(`${linktype} ${JSON.stringify(expr)}\n  ours    ${got}\n  tcpdump ${want}`);
    }
    expect(diffs).toEqual([]);
  });
});
