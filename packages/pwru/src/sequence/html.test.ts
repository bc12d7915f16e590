import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { haveChromium, pngSize, renderInChromium } from './chromium.js';
import { PacketSequencer } from './group.js';
import { type Hop, splitFunc } from './hop.js';
import { renderSequenceHtml } from './html.js';

const chromium = haveChromium();
if (!chromium)
  console.log('chromium is missing (tools/deps/apt-packages installs it): the --output-html rendering tests fail');

const T = '10.0.0.1:40000->10.232.1.3:8080(tcp)';
const NAT = '10.0.0.1:40000->10.231.1.2:8080(tcp)';
const hop = (func: string, ts: number, over: Partial<Hop> = {}): Hop => ({
  skb: '0xa',
  ...splitFunc(func),
  ts,
  netns: 100,
  iface: 'va:2',
  len: 60,
  tuple: T,
  ...over,
});

function stories() {
  const s = new PacketSequencer();
  for (const h of [
    hop('net_dev_queue', 1000),
    hop('net_dev_start_xmit', 2000),
    hop('netif_rx', 3500, { netns: 200, iface: 'vb:2' }),
    hop('netif_receive_skb', 5000, { netns: 200, iface: 'vb:2' }),
    hop('kfree_skb(SKB_DROP_REASON_NETFILTER_DROP)', 9000, { netns: 200, iface: 'vb:2', tuple: NAT }),
    { skb: '0xb', func: 'consume_skb', ts: 9500, netns: 100, iface: 'lo:1', tuple: '127.0.0.1:1->127.0.0.1:2(udp)' },
  ])
    s.add(h);
  return s.result();
}

function page(html: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'pwru-html-')), 'paths.html');
  writeFileSync(file, html);
  return file;
}

describe('--output-html', () => {
  it('is one file that needs nothing from the network, with the packets embedded safely', () => {
    const html = renderSequenceHtml(stories());
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    expect(html).not.toMatch(/<link /);
    const evil = new PacketSequencer();
    evil.add({ skb: '0xc', func: '</script><script>alert(1)</script>' });
    expect(renderSequenceHtml(evil.result())).not.toContain('</script><script>alert');
  });

  it('renders in headless Chromium: one lane per netns/device, each hop a step with latency, the NAT and the drop marked', () => {
    const { dom, png } = renderInChromium(page(renderSequenceHtml(stories())));
    // Two packets listed, the dropped one shown first.
    expect(dom.match(/<li [^>]*data-index="\d"/g)).toHaveLength(2);
    expect(dom).toMatch(/<li class="drop selected" data-index="0">/);
    expect(dom).toContain(`<h1 id="title">Packet 1: ${T.replace('>', '&gt;')}</h1>`);
    const lanes = [...dom.matchAll(/<tr class="lane" data-lane="([^"]+)">/g)].map((m) => m[1]);
    expect(lanes).toEqual(['netns 100 / va:2', 'netns 200 / vb:2']);
    const steps = [
      ...dom.matchAll(
        /<div class="(hop[^"]*)" data-step="(\d)"[^>]*><span class="func">([^<]+)<\/span><span class="lat">([^<]*)<\/span>/g,
      ),
    ].map((m) => [m[2], m[1], m[3], m[4]]);
    expect(steps).toEqual([
      ['1', 'hop', '1. net_dev_queue', 'first'],
      ['2', 'hop', '2. net_dev_start_xmit', '+1.0µs'],
      ['3', 'hop', '3. netif_rx', '+1.5µs'],
      ['4', 'hop', '4. netif_receive_skb', '+1.5µs'],
      ['5', 'hop nat drop', '5. kfree_skb', '+4.0µs'],
    ]);
    expect(dom).toContain(
      '<span class="reason">SKB_DROP_REASON_NETFILTER_DROP</span><span class="note">NAT: 10.0.0.1:40000-&gt;10.231.1.2:8080(tcp)</span>',
    );
    // Steps 1-2 in the first lane, 3-5 in the second.
    const rows = dom.split('<tr class="lane"').slice(1);
    expect([...rows[0]!.matchAll(/data-step="(\d)"/g)].map((m) => m[1])).toEqual(['1', '2']);
    expect([...rows[1]!.matchAll(/data-step="(\d)"/g)].map((m) => m[1])).toEqual(['3', '4', '5']);
    // The screenshot: the window's size, and more drawn than on the page of no packets.
    expect(pngSize(png)).toEqual({ width: 1280, height: 720 });
    const empty = renderInChromium(page(renderSequenceHtml([]))).png;
    expect(png.length).toBeGreaterThan(empty.length * 2);
  }, 240_000);

  it('shows the packet the address names (#packet-N, what a click in the list sets)', () => {
    const { dom } = renderInChromium(page(renderSequenceHtml(stories())), 800, 600, '#packet-2');
    expect(dom).toContain('<li data-index="1" class="selected">');
    expect(dom).toContain('<li class="drop" data-index="0">');
    expect(dom).toContain('<h1 id="title">Packet 2: 127.0.0.1:1-&gt;127.0.0.1:2(udp)</h1>');
    expect([...dom.matchAll(/<tr class="lane" data-lane="([^"]+)">/g)].map((m) => m[1])).toEqual(['netns 100 / lo:1']);
    expect(dom).toMatch(/data-step="1"[^>]*><span class="func">1\. consume_skb<\/span>/);
  }, 240_000);
});
