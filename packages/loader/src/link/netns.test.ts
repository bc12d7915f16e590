import { link } from 'bpf-asm-ts';
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRuns } from '../../test/counter.js';
import { canCreateNetns, createNetnsPair, type NetnsPair } from '../../test/netns.js';
import { BpfError, NotFoundError, PermissionError } from '../errors.js';
import { BpfMap } from '../map/map.js';
import { Program } from '../prog/program.js';
import { FakeBackend } from '../sys/fake-backend.js';
import { MapType, ProgramType } from '../sys/generated/constants.js';
import { attachTcx, attachXdp, ifindexOf, XdpMode } from './netdev.js';
import { CLONE_NEWNET, NetnsRestoreError, netnsPath, withNetns } from './netns.js';
import { attachTcLegacy } from './tc.js';

const here = () => readlinkSync('/proc/thread-self/ns/net');

describe('withNetns (scripted backend)', () => {
  it('enters the namespace, runs the function and returns to the original one', () => {
    const b = new FakeBackend();
    expect(withNetns('/proc/self/ns/net', () => 42, b)).toBe(42);
    expect(b.setnsCalls.map((c) => c.nstype)).toEqual([CLONE_NEWNET, CLONE_NEWNET]);
  });

  it('returns to the original namespace when the function throws, and rethrows its error', () => {
    const b = new FakeBackend();
    expect(() =>
      withNetns(
        '/proc/self/ns/net',
        () => {
          throw new RangeError('boom');
        },
        b,
      ),
    ).toThrow(RangeError);
    expect(b.setnsCalls).toHaveLength(2);
  });

  it('a failure to return is a NetnsRestoreError that says the process should exit', () => {
    const b = new FakeBackend();
    b.setnsResults = [0, -1 /* EPERM */];
    expect(() => withNetns('/proc/self/ns/net', () => 1, b)).toThrow(NetnsRestoreError);
    b.setnsResults = [0, -1];
    expect(() => withNetns('/proc/self/ns/net', () => 1, b)).toThrow(/still in network namespace .*exit the process/);
  });

  it('a failure to enter is the typed syscall error and runs nothing', () => {
    const b = new FakeBackend();
    b.setnsResults = [-1];
    let ran = false;
    expect(() => withNetns('/proc/self/ns/net', () => (ran = true), b)).toThrow(PermissionError);
    expect(ran).toBe(false);
    expect(b.setnsCalls).toHaveLength(1);
  });

  it('an unknown namespace name is a NotFoundError naming /run/netns', () => {
    expect(() => withNetns('no-such-ns-bpfts', () => 1, new FakeBackend())).toThrow(
      /\/run\/netns\/no-such-ns-bpfts does not exist/,
    );
    expect(() => withNetns('no-such-ns-bpfts', () => 1, new FakeBackend())).toThrow(NotFoundError);
  });

  it('refuses async functions (other code would run in the namespace while awaiting)', () => {
    expect(() => withNetns('/proc/self/ns/net', async () => 1, new FakeBackend())).toThrow(BpfError);
  });

  it('bare names are ip netns names, paths are used as given', () => {
    expect(netnsPath('blue')).toBe('/run/netns/blue');
    expect(netnsPath('/proc/1/ns/net')).toBe('/proc/1/ns/net');
  });
});

const ok = canCreateNetns();
if (!ok) console.warn('skipping netns attach tests: needs root and iproute2');

/** One UDP datagram from namespace a to b (its ARP request crosses the veth first). */
const send = (p: NetnsPair) => p.exec(p.a, ['bash', '-c', `echo hi > /dev/udp/${p.addrB}/9 || true`]);

const count = (m: BpfMap) => new DataView(m.lookup(0)!.buffer).getBigUint64(0, true);

describe.skipIf(!ok)('attaching inside another network namespace, from this process', () => {
  let pair: NetnsPair;
  beforeAll(() => {
    pair = createNetnsPair();
  });
  afterAll(() => pair?.destroy());

  it('withNetns resolves interface names in the namespace and comes back', () => {
    const before = here();
    const inside = withNetns(pair.b, () => ({ ns: here(), index: ifindexOf('veth1') }));
    expect(inside.ns).not.toBe(before);
    expect(inside.index).toBeGreaterThan(1);
    expect(here()).toBe(before);
    expect(() => ifindexOf('veth1')).toThrow(NotFoundError); // not in the host namespace
  });

  it('attachXdp({ netns }) counts the packets arriving on the namespace interface', () => {
    const counts = BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
    const prog = Program.load({
      type: ProgramType.XDP,
      maps: { counts },
      instructions: link(countRuns(2 /* XDP_PASS */)),
    });
    const l = attachXdp(prog, 'veth1', { netns: pair.b, mode: XdpMode.SKB });
    try {
      send(pair);
      expect(count(counts)).toBeGreaterThan(0n);
    } finally {
      l.close();
      prog.close();
      counts.close();
    }
  });

  it('attachTcx and attachTcLegacy take { netns } too; the legacy filter is deleted there on close', () => {
    const counts = BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
    const prog = Program.load({ type: ProgramType.SCHED_CLS, maps: { counts }, instructions: link(countRuns(-1)) });
    try {
      const tcx = attachTcx(prog, 'veth1', 'egress', { netns: pair.b });
      tcx.close();
      const f = attachTcLegacy(prog, 'veth1', 'ingress', { netns: pair.b, name: 'bpfts_netns' });
      const show = () => pair.exec(pair.b, ['tc', 'filter', 'show', 'dev', 'veth1', 'ingress']);
      expect(show()).toMatch(/bpfts_netns/);
      send(pair);
      expect(count(counts)).toBeGreaterThan(0n);
      f.close();
      expect(show()).not.toMatch(/bpfts_netns/);
    } finally {
      prog.close();
      counts.close();
    }
    expect(() => execFileSync('tc', ['filter', 'show', 'dev', 'veth1'], { stdio: 'pipe' })).toThrow(); // no veth1 on the host
  });
});
