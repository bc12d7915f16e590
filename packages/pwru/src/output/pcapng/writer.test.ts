import { describe, expect, it } from 'vitest';
import { BLOCK, OPTION } from './format.js';
import { PcapngWriter } from './writer.js';

/** Collects what a writer writes. */
function sink(): { bytes: () => Buffer; write: (b: Uint8Array) => void } {
  const parts: Uint8Array[] = [];
  return { write: (b) => void parts.push(b), bytes: () => Buffer.concat(parts) };
}

/** Splits a pcapng stream into blocks, checking both length fields and the 32-bit padding. */
function blocks(b: Buffer): Array<{ type: number; body: Buffer }> {
  const out = [];
  for (let off = 0; off < b.length; ) {
    const len = b.readUInt32LE(off + 4);
    expect(len % 4).toBe(0);
    expect(b.readUInt32LE(off + len - 4)).toBe(len);
    out.push({ type: b.readUInt32LE(off), body: b.subarray(off + 8, off + len - 4) });
    off += len;
  }
  return out;
}

describe('PcapngWriter', () => {
  it('writes a section header, interfaces and padded packets with UTF-8 comments', () => {
    const s = sink();
    const w = new PcapngWriter(s, { application: 'pwru test' });
    const id = w.addInterface({ linkType: 1, snaplen: 256, name: 'veth0' });
    w.packet({ iface: id, tsHi: 1, tsLo: 2, data: Uint8Array.of(1, 2, 3), origLen: 60, comment: 'nœud', custom: '{}' });
    w.flush();
    const bs = blocks(s.bytes());
    expect(bs.map((b) => b.type)).toEqual([BLOCK.sectionHeader, BLOCK.interfaceDescription, BLOCK.enhancedPacket]);
    const epb = bs[2]!.body;
    expect([
      epb.readUInt32LE(0),
      epb.readUInt32LE(4),
      epb.readUInt32LE(8),
      epb.readUInt32LE(12),
      epb.readUInt32LE(16),
    ]).toEqual([0, 1, 2, 3, 60]);
    expect([...epb.subarray(20, 24)]).toEqual([1, 2, 3, 0]);
    expect(epb.readUInt16LE(24)).toBe(OPTION.comment);
    expect(epb.readUInt16LE(26)).toBe(5);
    expect(epb.subarray(28, 33).toString('utf8')).toBe('nœud');
    expect(epb.readUInt16LE(36)).toBe(OPTION.customString);
  });

  it('starts a new sink with the section header and every interface again (a rotated file reads alone)', () => {
    const a = sink();
    const b = sink();
    const w = new PcapngWriter(a, { application: 'pwru' });
    w.addInterface({ linkType: 1, snaplen: 256, name: 'eth0' });
    w.addInterface({ linkType: 101, snaplen: 256, name: 'tun0' });
    w.packet({ iface: 1, tsHi: 0, tsLo: 0, data: new Uint8Array(0), origLen: 0 });
    w.restart(b);
    w.packet({ iface: 0, tsHi: 0, tsLo: 0, data: new Uint8Array(0), origLen: 0 });
    w.flush();
    expect(blocks(b.bytes()).map((x) => x.type)).toEqual([
      BLOCK.sectionHeader,
      BLOCK.interfaceDescription,
      BLOCK.interfaceDescription,
      BLOCK.enhancedPacket,
    ]);
    expect(() => w.packet({ iface: 2, tsHi: 0, tsLo: 0, data: new Uint8Array(0), origLen: 0 })).toThrow(
      'no pcapng interface 2',
    );
  });
});

describe('readPcapng', () => {
  it('reads back what PcapngEventWriter wrote: interfaces, bytes, comments and the event JSON', async () => {
    const { PcapngEventWriter } = await import('./events.js');
    const { CURL_DROP, DEFAULT_OUTPUT, fakeContext } = await import('../fixtures.js');
    const { readPcapng } = await import('./reader.js');
    const s = sink();
    const w = new PcapngEventWriter(s, fakeContext(), { snaplen: 128, output: DEFAULT_OUTPUT });
    w.write(CURL_DROP, { linkType: 101, data: Uint8Array.of(0x45, 0, 0, 20), origLen: 60 });
    w.write({ ...CURL_DROP, meta: { ...CURL_DROP.meta!, ifindex: 9 } });
    w.flush();
    const [section, ...more] = readPcapng(s.bytes());
    expect(more).toEqual([]);
    expect(section!.interfaces).toEqual([
      {
        linkType: 101,
        snaplen: 128,
        name: 'eth0',
        description: 'netns 4026531840, ifindex 2, from the network header (no MAC header)',
      },
      { linkType: 1, snaplen: 128, name: 'ifindex 9', description: 'netns 4026531840, ifindex 9, from the MAC header' },
    ]);
    expect(section!.packets.map((p) => [p.iface, [...p.data], p.origLen])).toEqual([
      [0, [0x45, 0, 0, 20], 60],
      [1, [], 60],
    ]);
    expect(section!.packets[0]!.comment).toMatch(
      /^kfree_skb_reason\(SKB_DROP_REASON_NETFILTER_DROP\) skb=0xffff8bb7038b6900 /,
    );
    expect(section!.packets[1]!.event).toMatchObject({ skb: '0xffff8bb7038b6900', iface: '9', time: CURL_DROP.ts });
    expect(() => readPcapng(s.bytes().subarray(0, 50))).toThrow('pcapng: a truncated block at byte 40');
  });
});
