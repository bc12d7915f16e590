import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import {
  currentNetnsInode,
  InterfaceCache,
  interfacesOf,
  linksViaIproute2,
  parseNetnsSpec,
  resolveIfname,
} from './netns.js';
import { processName } from './process.js';

describe('interfacesOf', () => {
  it('reads ifindex and name from igmp, if_inet6 and dev_mcast', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pwru-net-'));
    writeFileSync(
      join(dir, 'igmp'),
      'Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n1\tlo        :     1      V3\n\t\t\t\t010000E0     1 0:00000000\t\t0\n4\teth0      :     1      V3\n',
    );
    writeFileSync(join(dir, 'if_inet6'), 'fe8000000000000000fc00fffe000001 0c 40 20 80  veth-peer0\n');
    writeFileSync(join(dir, 'dev_mcast'), '2    ifb0            1     0     333300000001\n');
    expect([...interfacesOf(dir)].sort((a, b) => a[0] - b[0])).toEqual([
      [1, 'lo'],
      [2, 'ifb0'],
      [4, 'eth0'],
      [12, 'veth-peer0'],
    ]);
  });
});

describe('InterfaceCache', () => {
  it('names loopback in our own namespace', () => {
    const cache = new InterfaceCache();
    expect(cache.name(currentNetnsInode(), 1)).toBe('lo');
    expect(resolveIfname('lo', currentNetnsInode(), cache)).toBe(1);
  });

  it('rescans when an unknown interface appears, but at most once per interval', () => {
    const proc = mkdtempSync(join(tmpdir(), 'pwru-proc-'));
    let clock = 0;
    const cache = new InterfaceCache(proc, () => clock, 1000);
    expect(cache.name(42, 7)).toBeUndefined();
    // A fake /proc/<pid> whose ns/net is a regular file: its inode stands in for a netns.
    mkdirSync(join(proc, '100', 'ns'), { recursive: true });
    mkdirSync(join(proc, '100', 'net'));
    writeFileSync(join(proc, '100', 'ns', 'net'), '');
    writeFileSync(join(proc, '100', 'net', 'dev_mcast'), '7    vethX            1     0     333300000001\n');
    const ino = statSync(join(proc, '100', 'ns', 'net')).ino;
    expect(cache.name(ino, 7)).toBeUndefined(); // too soon to rescan
    clock = 2000;
    expect(cache.name(ino, 7)).toBe('vethX');
  });

  it('fails clearly for an interface that does not exist', () => {
    expect(() => resolveIfname('no-such-if0', currentNetnsInode(), new InterfaceCache())).toThrow(/no-such-if0/);
  });
});

describe('linksViaIproute2', () => {
  it('lists the links of a named namespace nobody lives in', () => {
    if (process.getuid?.() !== 0 || linksViaIproute2('pwru-no-such-netns') !== undefined) return;
    const name = `pwru-unit-${process.pid}`;
    try {
      execFileSync('ip', ['netns', 'add', name]);
    } catch {
      console.log('skipped: cannot create a network namespace');
      return;
    }
    try {
      expect(linksViaIproute2(name)?.get(1)).toBe('lo');
      const ino = statSync(`/run/netns/${name}`).ino;
      expect(new InterfaceCache().name(ino, 1)).toBe('lo');
    } finally {
      execFileSync('ip', ['netns', 'del', name]);
    }
  });
});

describe('parseNetnsSpec', () => {
  it('accepts absolute paths and inode:<n>, like upstream', () => {
    expect(parseNetnsSpec('/proc/self/ns/net')).toBe(currentNetnsInode());
    expect(parseNetnsSpec('inode:4026531840')).toBe(4026531840);
    expect(() => parseNetnsSpec('foo')).toThrow('Failed to retrieve netns foo: invalid netns specifier: foo');
    expect(() => parseNetnsSpec('/nonexistent/ns')).toThrow(/Failed to retrieve netns \/nonexistent\/ns/);
  });
});

describe('processName', () => {
  it('gives exe:pid for a live process and <empty>:pid for pid 0 or a gone process', () => {
    expect(processName(process.pid)).toBe(`${process.execPath}:${process.pid}`);
    expect(processName(0)).toBe('<empty>:0');
    expect(processName(2 ** 22 + 12345)).toBe(`<empty>:${2 ** 22 + 12345}`);
  });

  it('falls back to the command name the event carried when the process is gone (never <empty> then)', () => {
    expect(processName(2 ** 22 + 12345, 'ping')).toBe(`ping:${2 ** 22 + 12345}`);
    expect(processName(0, 'swapper/1')).toBe('swapper/1:0');
  });

  it('prefers the live executable path to the command name', () => {
    expect(processName(process.pid, 'node-worker')).toBe(`${process.execPath}:${process.pid}`);
  });
});
