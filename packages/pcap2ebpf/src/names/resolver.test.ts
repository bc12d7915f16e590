import { describe, expect, it } from 'vitest';
import { parseIpv6 } from './addresses.js';
import { inetNetwork } from './etcfiles.js';
import { NameResolver } from './resolver.js';

const names = new NameResolver({
  services: [
    'ftp-data\t20/tcp',
    'ssh\t\t22/tcp\t\t\t# SSH Remote Login Protocol',
    'domain\t\t53/tcp',
    'domain\t\t53/udp',
    'http\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP',
    'ntp\t\t123/udp',
    'shell\t\t514/tcp\t\tcmd syslog',
    'syslog\t\t514/udp',
    'weird\t\t600/tcp',
    'weird\t\t601/udp',
  ].join('\n'),
  protocols: 'ip\t0\tIP\ntcp\t6\tTCP\nipv6-icmp 58\tIPv6-ICMP\n',
  networks: 'default\t\t0.0.0.0\nloopback\t127.0.0.0\nten\t10\n',
  hosts: '127.0.0.1 localhost\n::1 localhost ip6-localhost\n192.0.2.7 dual\n2001:db8::7 dual\n',
  ethers: '02:00:00:00:00:0a gw\n',
});

describe('offline name resolution (what libpcap asks the C library)', () => {
  it('resolves services by name or alias, per protocol, like pcap_nametoport', () => {
    expect(names.port('http')).toEqual({ port: 80, proto: 'tcp' });
    expect(names.port('www')).toEqual({ port: 80, proto: 'tcp' });
    expect(names.port('ntp')).toEqual({ port: 123, proto: 'udp' });
    expect(names.port('domain')).toEqual({ port: 53, proto: 'any' });
    // 514/tcp `shell` has alias `syslog`, so `port syslog` is tcp and udp.
    expect(names.port('syslog')).toEqual({ port: 514, proto: 'any' });
    // different numbers for tcp and udp: libpcap takes tcp's
    expect(names.port('weird')).toEqual({ port: 600, proto: 'tcp' });
    expect(names.port('nosuch')).toBeUndefined();
  });

  it('splits port ranges like pcap_nametoportrange', () => {
    expect(names.portRange('1-1024')).toEqual({ port1: 1, port2: 1024, proto: 'any' });
    expect(names.portRange('ftp-data')).toBeUndefined();
    expect(names.portRange('ssh-http')).toEqual({ port1: 22, port2: 80, proto: 'tcp' });
    expect(names.portRange('ssh-domain')).toEqual({ port1: 22, port2: 53, proto: 'any' });
    expect(names.portRange('ftp-data-ssh')).toBeUndefined();
    // a number mixed with a name goes through getaddrinfo, which keeps the low 16 bits
    expect(names.portRange('66246-ssh')).toEqual({ port1: 710, port2: 22, proto: 'any' });
  });

  it('compares host, network and ether names without case, service and protocol names with it (glibc)', () => {
    expect(names.host('LocalHost')).toEqual(names.host('localhost'));
    expect(names.network('LOOPBACK')).toBe(0x7f000000);
    expect(names.ether('GW')).toEqual(Uint8Array.of(2, 0, 0, 0, 0, 10));
    expect(names.port('SSH')).toBeUndefined();
    expect(names.protocol('Tcp')).toBeUndefined();
    expect(names.protocol('TCP')).toBe(6);
  });

  it('reads protocols, networks and ethers', () => {
    expect(names.protocol('tcp')).toBe(6);
    expect(names.protocol('ipv6-icmp')).toBe(58);
    expect(names.protocol('nosuch')).toBeUndefined();
    expect(names.network('loopback')).toBe(0x7f000000);
    expect(names.network('ten')).toBe(10);
    expect(names.ether('gw')).toEqual(Uint8Array.of(2, 0, 0, 0, 0, 10));
  });

  it('returns every address of a host in file order, and numeric addresses as themselves', () => {
    expect(names.host('localhost').map((a) => a.family)).toEqual([4, 6]);
    expect(names.host('dual')).toEqual([
      { family: 4, addr: 0xc0000207 },
      { family: 6, addr: parseIpv6('2001:db8::7') },
    ]);
    expect(names.host('10.1.2.3')).toEqual([{ family: 4, addr: 0x0a010203 }]);
    expect(names.host('nosuchhost.invalid')).toEqual([]);
  });
});

describe('address text', () => {
  it('parses inet_network forms', () => {
    expect(inetNetwork('127')).toBe(0x7f);
    expect(inetNetwork('169.254.0.0')).toBe(0xa9fe0000);
    expect(inetNetwork('0x0a')).toBe(10);
    expect(inetNetwork('1.2.3.4.5')).toBeUndefined();
  });

  it('parses every IPv6 text form', () => {
    expect(Array.from(parseIpv6('::')!)).toEqual(new Array(16).fill(0));
    expect(Array.from(parseIpv6('2001:db8::1')!)).toEqual([0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(Array.from(parseIpv6('::ffff:192.0.2.1')!.slice(10))).toEqual([0xff, 0xff, 192, 0, 2, 1]);
    expect(parseIpv6('1:2:3:4:5:6:7:8')).toBeDefined();
    expect(parseIpv6('1::2::3')).toBeUndefined();
    expect(parseIpv6('1:2:3:4:5:6:7:8:9')).toBeUndefined();
  });
});
