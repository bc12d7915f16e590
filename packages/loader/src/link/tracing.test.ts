import { link } from 'bpf-asm-ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canCreateNetns, createNetnsPair, type NetnsPair } from '../../test/netns.js';
import { ipHeaderProgram } from '../../test/skb-programs.js';
import { BpfMap } from '../map/map.js';
import { Program } from '../prog/program.js';
import { RingBufReader } from '../reader/ringbuf.js';
import { AttachType, LinkType, MapType, ProgramType } from '../sys/generated/constants.js';
import { attachRawTracepoint, attachTracing } from './tracing.js';
import { attachTracepoint } from './perf-event.js';
import { PerfBufReader } from '../reader/perf.js';
import { possibleCpus } from '../sys/cpus.js';
import { tracepointBtfId } from './targets.js';
import { mountTracefs } from '../fs/mounts.js';

const ok = canCreateNetns();
if (!ok) console.warn('skipping skb tracepoint tests: needs root and iproute2 (ip netns)');

/** Collects ring buffer records until `count` arrive, for at most 5 s. */
async function collect(reader: RingBufReader, count: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const deadline = setTimeout(() => reader.close(), 5000);
  for await (const r of reader) {
    out.push(r);
    if (out.length >= count) break;
  }
  clearTimeout(deadline);
  return out;
}

const ipv4 = (h: Uint8Array, off: number) => [...h.subarray(off, off + 4)].join('.');

describe.skipIf(!ok)('tracepoint programs see real packets sent between test namespaces', () => {
  let net: NetnsPair;
  beforeAll(() => {
    // A freshly booted machine has no tracefs mounted; the perf-event test below needs it.
    mountTracefs();
    net = createNetnsPair();
  });
  afterAll(() => net?.destroy());

  it('tp_btf on kfree_skb sees UDP packets dropped for lack of a socket', async () => {
    using events = BpfMap.create({
      name: 'events',
      type: MapType.RINGBUF,
      keySize: 0,
      valueSize: 0,
      maxEntries: 1 << 16,
    });
    using prog = Program.load({
      name: 'tpbtf_kfree',
      type: ProgramType.TRACING,
      expectedAttachType: AttachType.TRACE_RAW_TP,
      attachBtfId: tracepointBtfId('kfree_skb'),
      instructions: link(ipHeaderProgram(net.addrBRaw, 'ringbuf')),
      maps: { events },
    });
    using l = attachTracing(prog, { attachType: AttachType.TRACE_RAW_TP, target: 'tp_btf kfree_skb' });
    expect(l.info().type).toBe(LinkType.RAW_TRACEPOINT); // tp_btf links are raw tracepoint links
    using reader = new RingBufReader(events);
    const got = collect(reader, 3);
    for (let i = 0; i < 3; i++) net.exec(net.a, ['bash', '-c', `echo hi > /dev/udp/${net.addrB}/9`]);
    const records = await got;
    expect(records.length).toBe(3);
    for (const h of records) {
      expect(h[0]! >> 4).toBe(4);
      expect(h[9]).toBe(17); // UDP
      expect([ipv4(h, 12), ipv4(h, 16)]).toEqual([net.addrA, net.addrB]);
    }
  });

  it('raw_tp on consume_skb sees the ICMP port-unreachable replies consumed back in the sender namespace', async () => {
    using events = BpfMap.create({
      name: 'events',
      type: MapType.RINGBUF,
      keySize: 0,
      valueSize: 0,
      maxEntries: 1 << 16,
    });
    using prog = Program.load({
      name: 'rawtp_consume',
      type: ProgramType.RAW_TRACEPOINT,
      instructions: link(ipHeaderProgram(net.addrARaw, 'ringbuf')),
      maps: { events },
    });
    using l = attachRawTracepoint(prog, 'consume_skb');
    expect(l.info().type).toBe(LinkType.RAW_TRACEPOINT);
    using reader = new RingBufReader(events);
    const got = collect(reader, 1);
    net.exec(net.a, ['bash', '-c', `echo hi > /dev/udp/${net.addrB}/9`]);
    const records = await got;
    expect(records.length).toBe(1);
    expect(records[0]![9]).toBe(1); // ICMP
    expect([ipv4(records[0]!, 12), ipv4(records[0]!, 16)]).toEqual([net.addrB, net.addrA]);
  });

  it('a tracepoint program on skb:kfree_skb (perf event link) delivers through a perf event array', async () => {
    using events = BpfMap.create({
      name: 'events',
      type: MapType.PERF_EVENT_ARRAY,
      keySize: 4,
      valueSize: 4,
      maxEntries: possibleCpus(),
    });
    using prog = Program.load({
      name: 'tp_kfree',
      type: ProgramType.TRACEPOINT,
      instructions: link(ipHeaderProgram(net.addrBRaw, 'perf', 8)),
      maps: { events },
    });
    using l = attachTracepoint(prog, 'skb', 'kfree_skb');
    expect(l.target).toBe('tracepoint skb:kfree_skb');
    using reader = new PerfBufReader(events);
    const got: Uint8Array[] = [];
    const done = (async () => {
      for await (const s of reader) if (got.push(s) >= 2) break;
    })();
    const deadline = setTimeout(() => reader.close(), 5000);
    for (let i = 0; i < 2; i++) net.exec(net.a, ['bash', '-c', `echo hi > /dev/udp/${net.addrB}/9`]);
    await done;
    clearTimeout(deadline);
    expect(got).toHaveLength(2);
    expect(got.map((h) => [h[9], ipv4(h, 16)])).toEqual([
      [17, net.addrB],
      [17, net.addrB],
    ]);
    expect(reader.lost).toBe(0);
  });

  it('after close() the program no longer fires', async () => {
    using events = BpfMap.create({
      name: 'events',
      type: MapType.RINGBUF,
      keySize: 0,
      valueSize: 0,
      maxEntries: 1 << 16,
    });
    using prog = Program.load({
      name: 'rawtp_closed',
      type: ProgramType.RAW_TRACEPOINT,
      instructions: link(ipHeaderProgram(net.addrBRaw, 'ringbuf')),
      maps: { events },
    });
    attachRawTracepoint(prog, 'kfree_skb').close();
    using reader = new RingBufReader(events);
    net.exec(net.a, ['bash', '-c', `echo hi > /dev/udp/${net.addrB}/9`]);
    expect(reader.readAll()).toEqual([]);
  });

  it('an unknown tracepoint is a typed, actionable error', () => {
    using events = BpfMap.create({ type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 1 << 12 });
    using prog = Program.load({
      type: ProgramType.RAW_TRACEPOINT,
      instructions: link(ipHeaderProgram(0, 'ringbuf')),
      maps: { events },
    });
    expect(() => attachRawTracepoint(prog, 'no_such_tracepoint')).toThrow(/no tracepoint "no_such_tracepoint"/);
  });
});
