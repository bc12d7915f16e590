import { mkdtempSync, openSync, closeSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventKind } from '../../event.js';
import { ReturnFormats } from '../retval.js';
import { CURL_DROP, DEFAULT_OUTPUT, fakeContext } from '../fixtures.js';
import { eventJsonFromCustom, PcapngEventWriter } from './events.js';
import { LINKTYPE, PWRU_PEN } from './format.js';
import { ethernetFrame, ipv4Packet } from './packets.js';
import { haveTshark, tsharkFields } from './tshark.js';

const tshark = haveTshark();
if (!tshark) console.log('tshark is missing (tools/deps/apt-packages installs it): the pcapng oracle tests fail');

function capture(write: (w: PcapngEventWriter) => void, ctx = fakeContext()): string {
  const file = join(mkdtempSync(join(tmpdir(), 'pwru-pcapng-')), 'out.pcapng');
  const fd = openSync(file, 'w');
  const w = new PcapngEventWriter(fd, ctx, { snaplen: 256, output: DEFAULT_OUTPUT });
  write(w);
  w.flush();
  closeSync(fd);
  return file;
}

const SYN = ipv4Packet({ saddr: '10.0.0.232', daddr: '1.0.0.1', proto: 6, sport: 49460, dport: 8080 });

describe('PcapngEventWriter, read back by tshark', () => {
  it('writes one packet per event, on one interface per (netns, ifindex, link type), without warnings', () => {
    const file = capture((w) => {
      w.write(CURL_DROP, { linkType: LINKTYPE.ethernet, data: ethernetFrame(SYN), origLen: 54 });
      w.write({ ...CURL_DROP, ts: CURL_DROP.ts + 1500 }, { linkType: LINKTYPE.raw, data: SYN, origLen: 40 });
      // Cut at a snap length of 28 bytes: the original length stays.
      w.write(
        { ...CURL_DROP, ts: CURL_DROP.ts + 3000, meta: { ...CURL_DROP.meta!, netns: 4026532000 } },
        { linkType: LINKTYPE.raw, data: SYN.subarray(0, 28), origLen: 40 },
      );
      w.write({ ...CURL_DROP, ts: CURL_DROP.ts + 4000 }); // no bytes: still one block
    });
    const r = tsharkFields(file, [
      'frame.interface_id',
      'frame.interface_name',
      'frame.encap_type',
      'ip.src',
      'ip.dst',
      'tcp.srcport',
      'tcp.dstport',
      'frame.len',
      'frame.cap_len',
    ]);
    expect(r.warnings).toBe('');
    expect(r.status).toBe(0);
    expect(r.rows).toEqual([
      ['0', 'eth0', '1', '10.0.0.232', '1.0.0.1', '49460', '8080', '54', '54'],
      ['1', 'eth0', '7', '10.0.0.232', '1.0.0.1', '49460', '8080', '40', '40'],
      ['2', 'ens33', '7', '10.0.0.232', '1.0.0.1', '49460', '8080', '40', '28'],
      ['0', 'eth0', '1', '', '', '', '', '60', '0'],
    ]);
  });

  it('puts the event as pwru prints it in the comment tshark shows', () => {
    const file = capture((w) =>
      w.write(CURL_DROP, { linkType: LINKTYPE.ethernet, data: ethernetFrame(SYN), origLen: 74 }),
    );
    const r = tsharkFields(file, ['frame.comment']);
    expect(r.rows).toEqual([
      [
        'kfree_skb_reason(SKB_DROP_REASON_NETFILTER_DROP) skb=0xffff8bb7038b6900 cpu=3 process=/usr/bin/curl:3378123 netns=4026531840 mark=0x0 iface=eth0:2 len=60 10.0.0.232:49460->1.0.0.1:8080(tcp)',
      ],
    ]);
  });

  it('stamps packets in nanoseconds from the clock --timestamp absolute uses', () => {
    const boot = 1_700_000_000_000.5; // ms since the epoch at ktime 0
    const file = capture(
      (w) => w.write({ ...CURL_DROP, ts: 5_000_000_123 }, { linkType: LINKTYPE.raw, data: SYN, origLen: 60 }),
      fakeContext({ wallClockMs: (ns) => boot + ns / 1e6 }),
    );
    expect(tsharkFields(file, ['frame.time_epoch']).rows).toEqual([['1700000005.000500123']]);
  });

  it('carries the event JSON in a pwru custom option, ktime as "time"', () => {
    const file = capture((w) =>
      w.write(CURL_DROP, { linkType: LINKTYPE.ethernet, data: ethernetFrame(SYN), origLen: 74 }),
    );
    const bytes = readFileSync(file);
    const at = bytes.indexOf(Buffer.from('{"skb"'));
    expect(at).toBeGreaterThan(8);
    const len = bytes.readUInt16LE(at - 6);
    expect(bytes.readUInt16LE(at - 8)).toBe(2988);
    const value = bytes.subarray(at - 4, at - 4 + len);
    expect(value.readUInt32LE(0)).toBe(PWRU_PEN);
    expect(eventJsonFromCustom(value)).toMatchObject({
      skb: '0xffff8bb7038b6900',
      func: 'kfree_skb_reason(SKB_DROP_REASON_NETFILTER_DROP)',
      time: 1_000_000_000,
      netns: 4026531840,
      tuple: { saddr: '10.0.0.232', dport: 8080 },
    });
  });

  it("gives a return event its entry's bytes and the return value in the comment", () => {
    const file = capture(
      (w) => {
        w.write(CURL_DROP, { linkType: LINKTYPE.ethernet, data: ethernetFrame(SYN), origLen: 74 });
        w.write({ ...CURL_DROP, kind: EventKind.Return, retval: { hi: 0, lo: 0 } });
      },
      fakeContext({ returns: new ReturnFormats(new Map()) }),
    );
    const r = tsharkFields(file, ['frame.comment', 'tcp.dstport']);
    expect(r.rows[1]![0]).toMatch(/^kfree_skb_reason = \S+ skb=0xffff8bb7038b6900 /);
    expect(r.rows[1]![1]).toBe('8080');
  });
});
