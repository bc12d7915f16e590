import { describe, expect, it } from 'vitest';
import { joinStreams } from './join.js';
import { readStreams } from './stream.js';
import { clocksJson, packetJson, timelineText } from './format.js';

const BASE = 1_765_000_000_000_000_000n;

/** A node whose monotonic clock reads `T + mono` and whose wall clock reads `T + skew`, at true time T. */
class Node {
  readonly lines: string[] = [];
  constructor(
    readonly name: string,
    private readonly mono: number,
    readonly skew: number,
  ) {
    this.lines.push(
      JSON.stringify({ pwru_clock: { node: name, realtime_ns: String(BASE + BigInt(skew)), monotonic_ns: mono } }),
    );
  }
  /** An event at true time `t` (ns). */
  ev(
    t: number,
    skb: string,
    func: string,
    tuple?: [string, number, string, number, number],
    extra: Record<string, unknown> = {},
  ): this {
    const j: Record<string, unknown> = {
      skb,
      cpu: 0,
      process: '[kernel]',
      func,
      time: t + this.mono,
      netns: 4026531840,
      mark: 0,
      iface: 'eth0:2',
      proto: 2048,
      mtu: 1500,
      len: 84,
    };
    if (tuple) j.tuple = { saddr: tuple[0], daddr: tuple[2], sport: tuple[1], dport: tuple[3], proto: tuple[4] };
    this.lines.push(JSON.stringify({ ...j, ...extra }));
    return this;
  }
  get text(): string {
    return this.lines.join('\n') + '\n';
  }
}

const A = '10.0.0.1';
const B = '10.0.0.2';
const ping = (n: Node, m: Node, t: number): void => {
  // a pings b at t: 150 ns on the wire each way.
  n.ev(t, '0xa1', 'ip_output', [A, 0, B, 0, 1]).ev(t + 10, '0xa1', 'dev_hard_start_xmit', [A, 0, B, 0, 1]);
  m.ev(t + 160, '0xb1', 'netif_receive_skb', [A, 0, B, 0, 1]).ev(t + 170, '0xb1', 'consume_skb', [A, 0, B, 0, 1]);
  m.ev(t + 200, '0xb2', 'ip_output', [B, 0, A, 0, 1]).ev(t + 210, '0xb2', 'dev_hard_start_xmit', [B, 0, A, 0, 1]);
  n.ev(t + 360, '0xa2', 'netif_receive_skb', [B, 0, A, 0, 1]).ev(t + 370, '0xa2', 'consume_skb', [B, 0, A, 0, 1]);
  // TX completion frees the sent skbs later (virtio-net does it lazily).
  n.ev(t + 900, '0xa1', 'consume_skb', [A, 0, B, 0, 1]);
  m.ev(t + 900, '0xb2', 'consume_skb', [B, 0, A, 0, 1]);
};

function join(...nodes: Node[]) {
  return joinStreams(readStreams(nodes.map((n) => ({ node: n.name, text: n.text }))));
}

describe('joinStreams', () => {
  it('puts one packet dropped on the receiver in causal order, and bounds the clock offset from both directions', () => {
    const a = new Node('node-a', 5e9, 0);
    const b = new Node('node-b', 9e9, 400_000_000); // b's wall clock runs 400 ms ahead
    ping(a, b, 1000);
    const udp: [string, number, string, number, number] = [A, 5000, B, 7, 17];
    a.ev(10_000, '0xa3', 'ip_output', udp).ev(10_020, '0xa3', 'dev_hard_start_xmit', udp);
    b.ev(10_300, '0xb3', 'netif_receive_skb', udp)
      .ev(10_350, '0xb3', 'nf_hook_slow', udp)
      .ev(10_400, '0xb3', 'kfree_skb_reason(SKB_DROP_REASON_NETFILTER_DROP)', udp);
    a.ev(11_000, '0xa3', 'consume_skb', udp);
    const tl = join(a, b);

    const b0 = tl.clocks[1]!;
    expect(b0.node).toBe('node-b');
    // True offset 400 ms; the two pings' one-way times (150 ns each) bound it to ±150 ns.
    expect(Math.abs(b0.offsetNs - 400_000_000)).toBeLessThanOrEqual(b0.precisionNs);
    expect(b0.precisionNs).toBe(150);
    expect(b0.minNs).toBeLessThan(400_000_000);
    expect(b0.maxNs).toBeGreaterThan(400_000_000);

    const drop = tl.packets.find((p) => p.events.some((e) => e.event.tuple?.sport === 5000))!;
    expect(drop.nodes).toEqual(['node-a', 'node-b']);
    expect(drop.fate).toMatchObject({ kind: 'dropped', node: 'node-b' });
    expect(drop.events.map((e) => `${e.event.node} ${e.event.base}`)).toEqual([
      'node-a ip_output',
      'node-a dev_hard_start_xmit',
      'node-b netif_receive_skb',
      'node-b nf_hook_slow',
      'node-b kfree_skb_reason',
      'node-a consume_skb',
    ]);
    expect(drop.hops).toHaveLength(1);
    expect(drop.hops[0]!.latencyNs).toBeGreaterThan(0);
    expect(Math.abs(drop.hops[0]!.latencyNs - 280)).toBeLessThanOrEqual(150);
    // Two pings and the UDP packet, nothing left unjoined.
    expect(tl.packets).toHaveLength(3);
    const text = timelineText(tl);
    expect(text).toContain(
      'nodes node-a -> node-b: dropped on node-b at kfree_skb_reason(SKB_DROP_REASON_NETFILTER_DROP)',
    );
    expect(text).toContain('~ wire node-a -> node-b');
    expect(text).toContain('clock node-b: offset 400.000 ms ± 150 ns from node-a (3 crossings)');
  });

  it('follows a packet through a DNAT on the receiver: the rewrite shows on the node that made it', () => {
    const a = new Node('a', 0, 0);
    const b = new Node('b', 0, -2_000_000); // b 2 ms behind
    ping(a, b, 0);
    const pre: [string, number, string, number, number] = [A, 40000, B, 80, 6];
    const post: [string, number, string, number, number] = [A, 40000, '10.244.1.5', 8080, 6];
    a.ev(5_000, '0xa9', 'ip_output', pre).ev(5_010, '0xa9', 'dev_hard_start_xmit', pre);
    b.ev(5_200, '0xb9', 'netif_receive_skb', pre)
      .ev(5_220, '0xb9', 'nf_nat_ipv4_manip_pkt', pre)
      .ev(5_240, '0xb9', 'ip_forward', post);
    b.ev(5_260, '0xb9', 'veth_xmit', post);
    const tl = join(a, b);
    const p = tl.packets.find((x) => x.events.some((e) => e.event.tuple?.dport === 8080))!;
    expect(p.nodes).toEqual(['a', 'b']);
    expect(p.rewrites).toHaveLength(1);
    expect(p.rewrites[0]).toMatchObject({
      node: 'b',
      from: { daddr: B, dport: 80 },
      to: { daddr: '10.244.1.5', dport: 8080 },
    });
    expect(p.fate.kind).toBe('in flight');
    expect(timelineText(tl)).toContain('^ rewritten from 10.0.0.1:40000->10.0.0.2:80(tcp)');
    const j = packetJson(p);
    expect(j.rewrites).toHaveLength(1);
    expect((j.events as { node: string }[]).map((e) => e.node)).toEqual(['a', 'a', 'b', 'b', 'b', 'b']);
  });

  it('matches a flow with a packet lost on the wire by the offsets the other packets give', () => {
    const a = new Node('a', 0, 0);
    const b = new Node('b', 0, 50_000);
    ping(a, b, 0);
    const udp: [string, number, string, number, number] = [A, 6000, B, 53, 17];
    a.ev(10_000, '0xc1', 'dev_hard_start_xmit', udp)
      .ev(20_000, '0xc2', 'dev_hard_start_xmit', udp)
      .ev(30_000, '0xc3', 'dev_hard_start_xmit', udp);
    // The second never arrives.
    b.ev(10_150, '0xd1', 'netif_receive_skb', udp).ev(30_150, '0xd3', 'netif_receive_skb', udp);
    const tl = join(a, b);
    const sends = tl.packets.filter((p) => p.events.some((e) => e.event.tuple?.sport === 6000));
    expect(sends).toHaveLength(3);
    const bySkb = (skb: string) => sends.find((p) => p.events[0]!.event.json.skb === skb)!;
    expect(bySkb('0xc1').nodes).toEqual(['a', 'b']);
    expect(bySkb('0xc2').nodes).toEqual(['a']);
    expect(bySkb('0xc3').nodes).toEqual(['a', 'b']);
    expect(bySkb('0xc3').events[1]!.event.json.skb).toBe('0xd3');
  });

  it('matches by IP ID (and the other wire ids) when both streams carry them, whatever the order', () => {
    const a = new Node('a', 0, 0);
    const b = new Node('b', 0, 0);
    ping(a, b, 0);
    const u: [string, number, string, number, number] = [A, 9, B, 9, 17];
    const id = (n: number) => ({ tuple: { saddr: A, daddr: B, sport: 9, dport: 9, proto: 17, ip_id: n } });
    a.ev(5_000, '0x51', 'dev_hard_start_xmit', u, id(1)).ev(5_010, '0x52', 'dev_hard_start_xmit', u, id(2));
    // b sees them reordered (two queues): order alone would pair them wrongly.
    b.ev(5_200, '0x62', 'netif_receive_skb', u, id(2)).ev(5_210, '0x61', 'netif_receive_skb', u, id(1));
    const tl = join(a, b);
    const hop = (skb: string) => tl.packets.find((p) => p.events[0]!.event.json.skb === skb)!.hops[0]!.recv.json.skb;
    expect(hop('0x51')).toBe('0x61');
    expect(hop('0x52')).toBe('0x62');
  });

  it('chains three nodes through a router, estimating the last clock through the middle one', () => {
    const a = new Node('a', 0, 0);
    const r = new Node('r', 0, 7_000);
    const c = new Node('c', 0, -3_000);
    ping(a, r, 0);
    // r <-> c ping, addresses of the second link
    const rc: [string, number, string, number, number] = ['10.1.0.1', 0, '10.1.0.2', 0, 1];
    const cr: [string, number, string, number, number] = ['10.1.0.2', 0, '10.1.0.1', 0, 1];
    r.ev(2_000, '0xe1', 'dev_hard_start_xmit', rc);
    c.ev(2_100, '0xf1', 'netif_receive_skb', rc);
    c.ev(2_200, '0xf2', 'dev_hard_start_xmit', cr);
    r.ev(2_300, '0xe2', 'netif_receive_skb', cr);
    const t: [string, number, string, number, number] = [A, 1234, '10.1.0.2', 443, 6];
    a.ev(9_000, '0xa7', 'dev_hard_start_xmit', t);
    r.ev(9_100, '0xe7', 'netif_receive_skb', t)
      .ev(9_120, '0xe7', 'ip_forward', t)
      .ev(9_140, '0xe7', 'dev_hard_start_xmit', t);
    c.ev(9_240, '0xf7', 'netif_receive_skb', t).ev(9_260, '0xf7', 'tcp_v4_rcv', t).ev(9_300, '0xf7', 'consume_skb', t);
    const tl = join(a, r, c);
    const p = tl.packets.find((x) => x.events.some((e) => e.event.tuple?.dport === 443))!;
    expect(p.nodes).toEqual(['a', 'r', 'c']);
    expect(p.hops.map((h) => `${h.from}>${h.to}`)).toEqual(['a>r', 'r>c']);
    expect(p.fate).toMatchObject({ kind: 'consumed', node: 'c' });
    const cc = tl.clocks[2]!;
    expect(cc.via).toBe('r');
    expect(Math.abs(cc.offsetNs - -3_000)).toBeLessThanOrEqual(cc.precisionNs);
    // a-r: the forwarded packet (100 ns) and the ping's return (150 ns); r-c: 100 ns each way.
    expect(cc.precisionNs).toBe(125 + 100);
    expect(clocksJson(tl.clocks)).toMatchObject({
      clocks: [
        { node: 'a', offset_ns: 0 },
        { node: 'r', via: 'a' },
        { node: 'c', via: 'r' },
      ],
    });
  });

  it('starts a new packet when a freed skb address is reused, but keeps the free path in the old one', () => {
    const a = new Node('a', 0, 0);
    const u: [string, number, string, number, number] = [A, 1, B, 2, 17];
    a.ev(1, '0x1', 'ip_output', u)
      .ev(2, '0x1', 'kfree_skb(SKB_DROP_REASON_NOT_SPECIFIED)', u)
      .ev(3, '0x1', 'skb_release_data', u)
      .ev(4, '0x1', 'kfree_skbmem', u);
    a.ev(10, '0x1', 'ip_output', u).ev(11, '0x1', 'consume_skb', u);
    const tl = join(a);
    expect(tl.packets.map((p) => [p.events.length, p.fate.kind])).toEqual([
      [4, 'dropped'],
      [2, 'consumed'],
    ]);
  });

  it("ends a segment at the struct's free or its return to the per-CPU cache, and ignores a socket's port-less tuple", () => {
    const a = new Node('a', 0, 0);
    const u: [string, number, string, number, number] = [A, 1, B, 2, 17];
    a.ev(1, '0x1', 'udp_send_skb', [A, 0, B, 0, 17])
      .ev(2, '0x1', 'ip_send_skb', u)
      .ev(3, '0x1', 'skb_consume_udp', u)
      .ev(4, '0x1', 'skb_release_data', u)
      .ev(5, '0x1', 'napi_skb_cache_put', u);
    a.ev(10, '0x1', 'inet_gro_receive', [B, 2, A, 1, 17]).ev(11, '0x1', 'ip_rcv_core', [B, 2, A, 1, 17]);
    const tl = join(a);
    expect(tl.packets.map((p) => p.events.length)).toEqual([5, 2]);
    expect(tl.packets[0]!.rewrites).toEqual([]);
    expect(tl.packets[0]!.fate).toMatchObject({ kind: 'consumed', event: { base: 'skb_consume_udp' } });
  });

  it('with a flow in one direction only, reports a one-sided bound and assumes synchronised wall clocks inside it', () => {
    const a = new Node('a', 0, 0);
    const b = new Node('b', 0, 1_000);
    const u: [string, number, string, number, number] = [A, 1, B, 2, 17];
    a.ev(100, '0x1', 'dev_hard_start_xmit', u);
    b.ev(300, '0x2', 'netif_receive_skb', u);
    const tl = join(a, b);
    const c = tl.clocks[1]!;
    expect(c.maxNs).toBe(1_200);
    expect(c.minNs).toBe(-Infinity);
    expect(c.offsetNs).toBe(0);
    expect(c.precisionNs).toBe(Infinity);
    expect(timelineText(tl)).toContain(
      'clock b: offset 0 ns assumed, only one bound, offset < 1.2 µs, from a (1 crossing, packets in one direction only)',
    );
  });

  /** A TCP event's tuple (a -> b, PSH|ACK) with wire ids. */
  const seg = (seq: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    tuple: {
      saddr: A,
      daddr: B,
      sport: 40000,
      dport: 8080,
      proto: 6,
      flags: 'PSH|ACK',
      ip_len: 60,
      seq,
      ack: 9,
      ...extra,
    },
  });

  it('tells packets with one tuple and the same flags apart by their TCP sequence numbers', () => {
    const a = new Node('node-a', 5e9, 0);
    const b = new Node('node-b', 9e9, 0);
    a.ev(1000, '0xa1', 'dev_hard_start_xmit', undefined, seg(100));
    a.ev(1100, '0xa2', 'dev_hard_start_xmit', undefined, seg(108));
    // b's receive path handles the later segment first (two queues): pairing in order would mismatch.
    b.ev(1300, '0xb1', 'netif_receive_skb', undefined, seg(108)).ev(1310, '0xb1', 'tcp_v4_rcv', undefined, seg(108));
    b.ev(1400, '0xb2', 'netif_receive_skb', undefined, seg(100)).ev(1410, '0xb2', 'tcp_v4_rcv', undefined, seg(100));
    const tl = join(a, b);
    expect(tl.packets).toHaveLength(2);
    for (const p of tl.packets) {
      expect(p.nodes).toEqual(['node-a', 'node-b']);
      const seqs = new Set(p.events.map((e) => e.event.tuple?.seq));
      expect(seqs.size).toBe(1);
    }
    expect(tl.packets.map((p) => p.hops[0]!.latencyNs)).toEqual([400, 200]);
    expect(timelineText(tl)).toContain('~ wire node-a -> node-b, 400 ns, by len=60 seq=100 ack=9\n');
  });

  it('joins an event with a payload hash to one without, and never two whose hashes differ', () => {
    const a = new Node('node-a', 5e9, 0);
    const b = new Node('node-b', 9e9, 0);
    // UDP datagrams with one tuple, IP ID and length (a retransmitting application): only the
    // payload hash tells them apart. The sender's first has none (payload in page fragments).
    const dgram = (h?: string) => ({
      tuple: {
        saddr: A,
        daddr: B,
        sport: 5000,
        dport: 53,
        proto: 17,
        ip_id: 0,
        ip_len: 60,
        ...(h ? { data_hash: h } : {}),
      },
    });
    a.ev(1000, '0xa1', 'dev_hard_start_xmit', undefined, dgram());
    a.ev(1100, '0xa2', 'dev_hard_start_xmit', undefined, dgram('2222'));
    a.ev(1200, '0xa3', 'dev_hard_start_xmit', undefined, dgram('3333'));
    b.ev(1350, '0xb1', 'netif_receive_skb', undefined, dgram('2222'));
    b.ev(1450, '0xb2', 'netif_receive_skb', undefined, dgram('1111'));
    b.ev(1550, '0xb3', 'netif_receive_skb', undefined, dgram('3333'));
    const tl = join(a, b);
    const joined = tl.packets.filter((p) => p.hops.length === 1);
    expect(joined.map((p) => [p.hops[0]!.send.json.skb, p.hops[0]!.recv.json.skb])).toEqual([
      ['0xa1', '0xb2'],
      ['0xa2', '0xb1'],
      ['0xa3', '0xb3'],
    ]);
  });
});
