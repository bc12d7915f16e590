import { link } from 'bpf-asm-ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRuns } from '../../test/counter.js';
import { canCreateNetns, createHostVeth, type HostVeth } from '../../test/netns.js';
import { BpfMap } from '../map/map.js';
import { Program } from '../prog/program.js';
import { AttachType, LinkType, MapType, ProgramType } from '../sys/generated/constants.js';
import { attachTcx, attachXdp, ifindexOf, XdpMode } from './netdev.js';
import { attachTcLegacy } from './tc.js';
import { execFileSync } from 'node:child_process';
import { NotFoundError } from '../errors.js';

const ok = canCreateNetns();
if (!ok) console.warn('skipping xdp/tcx tests: needs root and iproute2');

/** Counts packets in counts[0] and returns `verdict`. */
function counting(counts: BpfMap, type: ProgramType, verdict: number, expectedAttachType?: AttachType): Program {
  return Program.load({
    type,
    expectedAttachType,
    maps: { counts },
    instructions: link(countRuns(verdict)),
  });
}

const count = (m: BpfMap) => new DataView(m.lookup(0)!.buffer).getBigUint64(0, true);

describe.skipIf(!ok)('xdp and tcx links on a veth facing a test namespace', () => {
  let veth: HostVeth;
  beforeAll(() => {
    veth = createHostVeth();
  });
  afterAll(() => veth?.destroy());

  it('an XDP link sees the packets arriving from the namespace', () => {
    using counts = BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
    using prog = counting(counts, ProgramType.XDP, 2 /* XDP_PASS */);
    using l = attachXdp(prog, veth.hostIf, { mode: XdpMode.SKB });
    expect(l.info().type).toBe(LinkType.XDP);
    veth.send();
    expect(count(counts)).toBeGreaterThan(0n);
  });

  it('a tcx ingress link sees them too, and a second one stacks after it', () => {
    // Each program counts into its own map. ARP retries and IPv6 chatter from the namespace can
    // arrive at any moment, so the check is race-free by ordering rather than by exact counts:
    // tcx runs the first-attached program before the second for every packet, so reading the
    // second's count before the first's can never show the first behind.
    using first = BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
    using second = BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
    using prog = counting(first, ProgramType.SCHED_CLS, -1 /* TC_ACT_UNSPEC: next */, AttachType.TCX_INGRESS);
    using prog2 = counting(second, ProgramType.SCHED_CLS, -1, AttachType.TCX_INGRESS);
    using l1 = attachTcx(prog, veth.hostIf, 'ingress');
    expect(() => attachTcx(prog, veth.hostIf, 'ingress')).toThrow(/already attached/);
    using l2 = attachTcx(prog2, ifindexOf(veth.hostIf), 'ingress');
    expect(l1.info().type).toBe(LinkType.TCX);
    veth.send();
    const n2 = count(second);
    const n1 = count(first);
    expect(n2).toBeGreaterThan(0n);
    expect(n1).toBeGreaterThanOrEqual(n2);
    void l2;
  });

  it('a legacy tc filter (clsact + cls_bpf direct-action over netlink) sees packets and is deleted on close', () => {
    using counts = BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
    using prog = counting(counts, ProgramType.SCHED_CLS, -1);
    const f = attachTcLegacy(prog, veth.hostIf, 'ingress', { priority: 7, name: 'bpfts_test' });
    const shown = execFileSync('tc', ['filter', 'show', 'dev', veth.hostIf, 'ingress'], { encoding: 'utf8' });
    expect(shown).toMatch(/pref 7 bpf .*bpfts_test.* direct-action/s);
    veth.send();
    expect(count(counts)).toBeGreaterThan(0n);
    f.close();
    expect(execFileSync('tc', ['filter', 'show', 'dev', veth.hostIf, 'ingress'], { encoding: 'utf8' })).not.toMatch(
      /bpfts_test/,
    );
  });

  it('an unknown interface is a NotFoundError', () => {
    using counts = BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
    using prog = counting(counts, ProgramType.XDP, 2);
    expect(() => attachXdp(prog, 'no-such-if0')).toThrow(NotFoundError);
  });
});
