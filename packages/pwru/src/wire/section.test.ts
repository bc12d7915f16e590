import { describe, expect, it } from 'vitest';
import type { EventTuple } from '../event.js';
import { dataHash, WIRE, wireAt } from './section.js';

const UDP4: EventTuple = { saddr: '10.0.0.1', daddr: '10.0.0.2', sport: 1000, dport: 53, l3: 0x0800, l4: 17, flags: 0 };
const TCP4: EventTuple = { ...UDP4, l4: 6, flags: 0x18 };
const TCP6: EventTuple = { ...TCP4, saddr: '2001:db8::1', daddr: '2001:db8::2', l3: 0x86dd };

/** A wire section as the generated program fills it. */
function section(o: {
  ipId?: number;
  ipLen: number;
  l4Off: number;
  payloadOff: number;
  linear: number;
  doff?: number;
  seq?: number;
  ack?: number;
  data?: number[];
}): DataView {
  const view = new DataView(new ArrayBuffer(8 + WIRE.size));
  const at = 8; // not at the buffer's start, as in a ring record
  view.setUint16(at + WIRE.ipId, o.ipId ?? 0, false);
  view.setUint16(at + WIRE.ipLen, o.ipLen, false);
  view.setUint16(at + WIRE.l4Off, o.l4Off, true);
  view.setUint16(at + WIRE.payloadOff, o.payloadOff, true);
  view.setUint32(at + WIRE.linear, o.linear, true);
  view.setUint8(at + WIRE.tcpDoff, (o.doff ?? 0) << 4);
  view.setUint32(at + WIRE.seq, o.seq ?? 0, false);
  view.setUint32(at + WIRE.ack, o.ack ?? 0, false);
  (o.data ?? []).forEach((b, i) => view.setUint8(at + WIRE.data + i, b));
  return view;
}

const PAYLOAD = [...'hello, pwru wire'].map((c) => c.charCodeAt(0));

describe('the wire section', () => {
  it('decodes IPv4 UDP: id, length, and the hash of the first 16 payload bytes', () => {
    const v = section({ ipId: 0xbeef, ipLen: 100, l4Off: 20, payloadOff: 28, linear: 128, data: PAYLOAD });
    expect(wireAt(v, 8, UDP4)).toEqual({ ipId: 0xbeef, ipLen: 100, dataHash: dataHash(Uint8Array.from(PAYLOAD)) });
  });

  it('decodes TCP sequence and acknowledgement numbers', () => {
    const v = section({
      ipId: 7,
      ipLen: 52,
      l4Off: 20,
      payloadOff: 52,
      linear: 52,
      doff: 8,
      seq: 0xfedcba98,
      ack: 12345,
    });
    expect(wireAt(v, 8, TCP4)).toEqual({ ipId: 7, ipLen: 52, seq: 0xfedcba98, ack: 12345 });
  });

  it('hashes only the payload the IP length covers (never padding)', () => {
    const v = section({ ipLen: 20 + 8 + 5, l4Off: 20, payloadOff: 28, linear: 60, data: PAYLOAD });
    expect(wireAt(v, 8, UDP4)?.dataHash).toBe(dataHash(Uint8Array.from(PAYLOAD.slice(0, 5))));
  });

  it('has no hash when the hashed bytes are not all in the linear data', () => {
    const v = section({ ipLen: 1500, l4Off: 20, payloadOff: 52, linear: 60, doff: 8, seq: 1, ack: 2, data: PAYLOAD });
    expect(wireAt(v, 8, TCP4)).toEqual({ ipId: 0, ipLen: 1500, seq: 1, ack: 2 });
  });

  it('has no hash for a payload offset that disagrees with the TCP header length (a failed read)', () => {
    const v = section({ ipLen: 100, l4Off: 20, payloadOff: 20, linear: 100, doff: 0, data: PAYLOAD });
    expect(wireAt(v, 8, TCP4)).toEqual({ ipId: 0, ipLen: 100 });
  });

  it('IPv6 has no IP ID and its length adds the fixed header', () => {
    const v = section({ ipLen: 32, l4Off: 40, payloadOff: 72, linear: 72, doff: 8, seq: 5, ack: 6 });
    expect(wireAt(v, 8, TCP6)).toEqual({ ipLen: 72, seq: 5, ack: 6 });
  });

  it('is absent when the parse stopped before the L4 header, or the packet is not IP', () => {
    expect(wireAt(section({ ipLen: 100, l4Off: 0, payloadOff: 0, linear: 0 }), 8, UDP4)).toBeUndefined();
    const v = section({ ipLen: 100, l4Off: 20, payloadOff: 28, linear: 100 });
    expect(wireAt(v, 8, { ...UDP4, l3: 0 })).toBeUndefined();
    expect(wireAt(v, 8, undefined)).toBeUndefined();
  });

  it('hashes bytes with 32-bit FNV-1a', () => {
    // Reference values of FNV-1a 32.
    expect(dataHash(new Uint8Array())).toBe('811c9dc5');
    expect(dataHash(new TextEncoder().encode('a'))).toBe('e40c292c');
    expect(dataHash(new TextEncoder().encode('foobar'))).toBe('bf9cf968');
  });
});
