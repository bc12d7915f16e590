import { describe, expect, it } from 'vitest';
import { EventKind, type PwruEvent } from '../../event.js';
import { PACKET_HEADER, PacketStart } from '../../generate/skb-packet.js';
import { NF, NfEngine, NfFlags, netfilterAt } from '../../netfilter/section.js';
import { CURL_DROP } from '../fixtures.js';
import { PacketJoiner } from './joiner.js';

/** A packet record as the entry program sends it: header stamped with (cpu, ts), then bytes. */
function record(cpu: number, ts: number, bytes: number[]): DataView {
  const v = new DataView(new ArrayBuffer(PACKET_HEADER.size + bytes.length));
  v.setUint32(PACKET_HEADER.ts, ts % 2 ** 32, true);
  v.setUint32(PACKET_HEADER.ts + 4, Math.floor(ts / 2 ** 32), true);
  v.setUint32(PACKET_HEADER.cpu, cpu, true);
  v.setUint32(PACKET_HEADER.start, PacketStart.Network, true);
  v.setUint32(PACKET_HEADER.origLen, bytes.length, true);
  v.setUint32(PACKET_HEADER.capLen, bytes.length, true);
  bytes.forEach((b, i) => v.setUint8(PACKET_HEADER.size + i, b));
  return v;
}

/** A joiner whose ring holds `records` (drained once). */
function joiner(records: DataView[]): PacketJoiner {
  let left = records;
  return new PacketJoiner((each) => {
    for (const r of left) each(r, 0, r.byteLength);
    left = [];
  });
}

describe('PacketJoiner', () => {
  it('gives an event the bytes stamped with its CPU and time', () => {
    const j = joiner([record(1, 5_000_000_001, [0x45, 1]), record(3, 1_000_000_000, [0x45, 2])]);
    expect([...j.take(CURL_DROP)!.data]).toEqual([0x45, 2]);
    expect(j.take({ ...CURL_DROP, ts: 42 })).toBeUndefined();
    expect(j.missing).toBe(1);
  });

  it("gives a table walker's event, stamped at its return, the bytes copied at its entry", () => {
    // The section as the return program leaves it: verdict, and the entry's stamp kept.
    const nf = new DataView(new ArrayBuffer(NF.size));
    nf.setUint8(NF.engine, NfEngine.iptables);
    nf.setUint8(NF.flags, NfFlags.present | NfFlags.returned);
    nf.setUint32(NF.entryTs, 4_000_000_123 % 2 ** 32, true);
    nf.setUint32(NF.entryTs + 4, Math.floor(4_000_000_123 / 2 ** 32), true);
    nf.setUint32(NF.entryCpu, 1, true);
    const netfilter = netfilterAt(nf, 0);
    expect(netfilter?.entry).toEqual({ ts: 4_000_000_123, cpu: 1 });
    const ev: PwruEvent = { ...CURL_DROP, kind: EventKind.Kprobe, cpu: 0, ts: 4_000_009_000, netfilter };
    const j = joiner([record(1, 4_000_000_123, [0x45, 9])]);
    expect([...j.take(ev)!.data]).toEqual([0x45, 9]);
    expect(j.missing).toBe(0);
  });
});
