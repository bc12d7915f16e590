import { describe, expect, it } from 'vitest';
import { PacketSequencer, XDP_TO_SKB_NS } from './group.js';
import { type Hop, splitFunc } from './hop.js';
import { parseJsonHops } from './input.js';
import { changes, formatSequenceJson, formatSequenceText } from './view.js';

const T = '10.0.0.1:40000->10.0.0.2:8080(tcp)';
const hop = (skb: string, func: string, ts: number, over: Partial<Hop> = {}): Hop => ({
  skb,
  ...splitFunc(func),
  ts,
  netns: 100,
  iface: 'va:2',
  len: 60,
  tuple: T,
  mark: 0,
  cpu: 0,
  ...over,
});
const view = (hops: Hop[]) => {
  const s = new PacketSequencer();
  for (const h of hops) s.add(h);
  return s.result();
};

describe('the per-packet view', () => {
  it('joins the skb built from an XDP frame to the frame: same CPU, device, tuple, length less the MAC header', () => {
    const XDP = 'bpf_prog_31205a4510f2c168_xdp_main[bpf](xdp)';
    const stories = view([
      hop('0xffffc900', XDP, 1000, { cpu: 1, len: 74 }),
      hop('0xa', 'netif_receive_skb', 1800, { cpu: 1, len: 60 }),
      hop('0xa', 'ip_rcv', 2000, { cpu: 1, len: 60 }),
      // The next frame, in the same xdp_buff: a packet of its own, whose skb joins it.
      hop('0xffffc900', XDP, 5000, { cpu: 1, len: 74, tuple: '10.0.0.1:40001->10.0.0.2:8080(tcp)' }),
      hop('0xb', 'netif_receive_skb', 5400, { cpu: 1, len: 74, tuple: '10.0.0.1:40001->10.0.0.2:8080(tcp)' }),
      // Neither joins: another CPU, and a length no MAC header explains.
      hop('0xffffc900', XDP, 9000, { cpu: 0, len: 74 }),
      hop('0xc', 'netif_receive_skb', 9100, { cpu: 1, len: 60 }),
      hop('0xd', 'netif_receive_skb', 9200, { cpu: 0, len: 50 }),
      // Nor does an skb too long after the frame.
      hop('0xffffc900', XDP, 20_000, { cpu: 2, len: 74 }),
      hop('0xe', 'netif_receive_skb', 20_000 + XDP_TO_SKB_NS + 1, { cpu: 2, len: 60 }),
    ]);
    expect(stories.map((s) => [s.skbs, s.hops.map((h) => h.func)])).toEqual([
      [
        ['0xffffc900', '0xa'],
        [XDP, 'netif_receive_skb', 'ip_rcv'],
      ],
      [
        ['0xffffc900', '0xb'],
        [XDP, 'netif_receive_skb'],
      ],
      [['0xffffc900'], [XDP]],
      [['0xc'], ['netif_receive_skb']],
      [['0xd'], ['netif_receive_skb']],
      [['0xffffc900'], [XDP]],
      [['0xe'], ['netif_receive_skb']],
    ]);
  });

  it('follows one skb across a veth into another netns, to its drop, with per-hop latency', () => {
    const [p, ...rest] = view([
      hop('0xa', 'net_dev_queue', 1000, { len: 74 }),
      hop('0xb', 'net_dev_queue', 1100, { tuple: '10.9.9.9:1->10.9.9.8:2(udp)' }), // another packet, interleaved
      hop('0xa', 'net_dev_start_xmit', 1500, { len: 74 }),
      hop('0xa', 'netif_rx', 2500, { netns: 200, iface: 'vb:2' }),
      hop('0xa', 'netif_receive_skb', 4000, { netns: 200, iface: 'vb:2' }),
      hop('0xa', 'kfree_skb(SKB_DROP_REASON_NETFILTER_DROP)', 9000, { netns: 200, iface: 'vb:2' }),
    ]);
    expect(rest).toHaveLength(1);
    expect(p!.hops.map((h) => h.func)).toEqual([
      'net_dev_queue',
      'net_dev_start_xmit',
      'netif_rx',
      'netif_receive_skb',
      'kfree_skb',
    ]);
    expect(p!.end).toEqual({ kind: 'drop', func: 'kfree_skb', reason: 'SKB_DROP_REASON_NETFILTER_DROP' });
    expect(changes(p!.hops[1]!, p!.hops[2]!)).toEqual(['netns 100->200', 'iface va:2->vb:2', 'len 74->60']);
    const text = formatSequenceText([p!]);
    expect(text).toContain(
      `PACKET 1  ${T}  skb 0xa  5 hops in 8.0µs  dropped at kfree_skb: SKB_DROP_REASON_NETFILTER_DROP\n`,
    );
    expect(text).toContain('\n    3    +1.0µs    +1.5µs  200        vb:2           0   netif_rx\n');
    expect(text).toContain('                           ~ netns 100->200, iface va:2->vb:2, len 74->60\n    3 ');
    const json = JSON.parse(formatSequenceJson([p!]));
    expect(json.hops[2]).toMatchObject({
      func: 'netif_rx',
      since_prev_ns: 1000,
      since_first_ns: 1500,
      changed: ['netns 100->200', 'iface va:2->vb:2', 'len 74->60'],
    });
  });

  it('shows a NAT rewrite as a tuple change on the same packet', () => {
    const [p] = view([
      hop('0xa', 'nf_hook_slow', 0),
      hop('0xa', 'ip_output', 10, { tuple: '10.0.0.1:40000->10.0.0.9:80(tcp)' }),
    ]);
    expect(changes(p!.hops[0]!, p!.hops[1]!)).toEqual([`tuple ${T} -> 10.0.0.1:40000->10.0.0.9:80(tcp)`]);
  });

  it('starts a new packet when a freed address is reused, after the release steps of the free', () => {
    const ps = view([
      hop('0xa', 'ip_rcv', 0),
      hop('0xa', 'tcp_v4_do_rcv', 5),
      hop('0xa', 'consume_skb', 10),
      hop('0xa', 'skb_release_data', 11),
      hop('0xa', 'kfree_skbmem', 12),
      hop('0xa', 'net_dev_queue', 50),
      hop('0xa', 'net_dev_xmit', 60),
    ]);
    expect(ps.map((p) => p.hops.length)).toEqual([5, 2]);
    expect(ps[0]!.end).toEqual({ kind: 'socket', func: 'tcp_v4_do_rcv' });
    expect(ps[1]!.end).toEqual({ kind: 'transmit', func: 'net_dev_xmit' });
  });

  it('ends at plain kfree_skb as a drop on kernels without drop reasons, even after a clone reached a socket', () => {
    // Before 5.17 the kernel frees a dropped skb with plain kfree_skb (no reason) and a consumed
    // one with consume_skb; a tap's clone delivered to tpacket_rcv must not hide the drop.
    const [p] = view([
      hop('0xa', '__dev_queue_xmit', 0),
      hop('0xa', 'skb_clone', 1),
      hop('0xc', 'tpacket_rcv', 2),
      hop('0xa', 'ip_rcv', 3, { netns: 200, iface: 'vb:2' }),
      hop('0xa', 'kfree_skb', 4, { netns: 200, iface: 'vb:2' }),
    ]);
    expect(p!.end).toEqual({ kind: 'drop', func: 'kfree_skb', reason: 'SKB_DROP_REASON_NOT_SPECIFIED' });
    const [q] = view([hop('0xa', 'ip_rcv', 0), hop('0xa', 'consume_skb', 1)]);
    expect(q!.end).toEqual({ kind: 'freed', func: 'consume_skb' });
  });

  it('joins a copy made in a traced skb_clone to its original, and not an unrelated new skb', () => {
    const ps = view([
      hop('0xa', 'tcp_transmit_skb', 0),
      hop('0xa', 'skb_clone', 1),
      hop('0xc', '__ip_queue_xmit', 2),
      hop('0xd', 'ip_rcv', 3, { tuple: '10.0.0.2:8080->10.0.0.1:40000(tcp)' }),
    ]);
    expect(ps.map((p) => p.skbs)).toEqual([['0xa', '0xc'], ['0xd']]);
    expect(changes(ps[0]!.hops[1]!, ps[0]!.hops[2]!)).toEqual(['skb 0xa->0xc (copy)']);
  });

  it('reads --output-json lines, skipping the summary, and names the line of bad input', () => {
    const hops = parseJsonHops(
      '{"skb":"0xa","cpu":1,"process":"ping:1","func":"kfree_skb(SKB_DROP_REASON_NO_SOCKET)","time":5,"netns":7,"mark":0,"iface":"lo:1","proto":2048,"mtu":65536,"len":84,"tuple":{"saddr":"fd00::1","daddr":"fd00::2","sport":0,"dport":0,"proto":58}}\n\n{"summary":{"events":1}}\n',
      'x.json',
    );
    expect(hops).toEqual([
      {
        skb: '0xa',
        func: 'kfree_skb',
        reason: 'SKB_DROP_REASON_NO_SOCKET',
        ts: 5,
        cpu: 1,
        process: 'ping:1',
        netns: 7,
        mark: 0,
        iface: 'lo:1',
        len: 84,
        tuple: '[fd00::1]:0->[fd00::2]:0(icmp6)',
      },
    ]);
    expect(() => parseJsonHops('{"skb":"0xa","func":"x"}\nSKB CPU PROCESS\n', 'x.txt')).toThrow(
      'x.txt:2: not JSON; --input-json reads what pwru --output-json wrote, one event per line',
    );
    expect(() => parseJsonHops('[1]\n', 'y.json')).toThrow('y.json:1: not a pwru --output-json event');
  });

  it('shows "-" for latency when the events carry no ktime (saved without --timestamp current)', () => {
    const [p] = view([
      { skb: '0xa', func: 'ip_rcv' },
      { skb: '0xa', func: 'ip_local_deliver' },
    ]);
    expect(formatSequenceText([p!])).toMatch(/\n {4}2 {9}- {9}- {2}- +- +- +ip_local_deliver\n/);
  });
});
