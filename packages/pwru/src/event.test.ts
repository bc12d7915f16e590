import { describe, expect, it } from 'vitest';
import { decodeEvent, encodeEvent, eventLayout, HEADER } from './event.js';
import { CURL_DROP } from './output/fixtures.js';
import { ipBytes, ipv6String } from './output/ip.js';

const ALL = { meta: true, cb: true, tuple: true, tunnel: true, stack: true, caller: true };
const NONE = { meta: false, cb: false, tuple: false, tunnel: false, stack: false, caller: false };

describe('eventLayout', () => {
  it('is just the 80-byte header when no output is enabled', () => {
    expect(eventLayout(NONE)).toMatchObject({ size: HEADER.size, meta: -1, tuple: -1, stack: -1 });
  });

  it('appends 8-byte aligned sections only for enabled outputs', () => {
    const l = eventLayout({ ...NONE, meta: true, tuple: true });
    expect(l).toMatchObject({ meta: 80, tuple: 104, size: 144 });
    // The wire section goes with the tuple only.
    expect(eventLayout({ ...NONE, meta: true, tuple: true, wire: true })).toMatchObject({ wire: 144, size: 184 });
    expect(eventLayout({ ...NONE, wire: true })).toMatchObject({ wire: -1, size: HEADER.size });
    expect(eventLayout(ALL).size).toBe(80 + 24 + 24 + 40 + 40 + 8 + 8);
  });
});

describe('decodeEvent', () => {
  it('reads back what encodeEvent wrote, for every section', () => {
    const layout = eventLayout(ALL);
    const ev = {
      ...CURL_DROP,
      tunnel: { ...CURL_DROP.tuple!, saddr: '2001:db8::1', daddr: '::ffff:102:304', l3: 0x86dd },
    };
    const bytes = encodeEvent(ev, layout);
    const back = decodeEvent(new DataView(bytes.buffer), 0, layout);
    expect(back).toEqual({ ...ev, tunnel: { ...ev.tunnel, daddr: '1.2.3.4' } });
  });

  it('decodes at an offset inside a larger buffer and omits absent sections', () => {
    const layout = eventLayout({ ...NONE, meta: true });
    const bytes = new Uint8Array(layout.size + 8);
    bytes.set(encodeEvent(CURL_DROP, layout), 8);
    const back = decodeEvent(new DataView(bytes.buffer), 8, layout);
    expect(back.meta).toEqual(CURL_DROP.meta);
    expect(back.tuple).toBeUndefined();
    expect(back.skb).toEqual(CURL_DROP.skb);
  });
});

describe('ipv6String', () => {
  const text = (s: string): string => ipv6String(new DataView(ipBytes(s).buffer), 0);
  it('compresses like Go net.IP.String', () => {
    expect(text('2606:4700:4700:0:0:0:0:1001')).toBe('2606:4700:4700::1001');
    expect(text('0:0:0:0:0:0:0:0')).toBe('::');
    expect(text('0:0:0:0:0:0:0:1')).toBe('::1');
    expect(text('2001:db8:0:1:0:0:0:1')).toBe('2001:db8:0:1::1');
    expect(text('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(text('fe80:0:0:0:1:2:3:4')).toBe('fe80::1:2:3:4');
    expect(text('1:0:2:3:4:5:6:7')).toBe('1:0:2:3:4:5:6:7');
  });
});
