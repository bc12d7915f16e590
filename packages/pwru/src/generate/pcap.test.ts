import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { link } from 'bpf-asm-ts';
import { Btf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { kernelLayoutFromBtf } from './btf-layout.js';
import { Emitter } from './emitter.js';
import { pcapFilters } from './pcap.js';
import { frameFor } from './program.js';

const kernel = kernelLayoutFromBtf(
  Btf.parse(gunzipSync(readFileSync(new URL('../../../btf/test/data/vmlinux-6.1.btf.gz', import.meta.url)))),
);
const frame = frameFor(kernel);

function fragmentOf(expr: string, tunnelL2 = '', tunnelL3 = '') {
  const p = pcapFilters({ expr, tunnelL2, tunnelL3 }, kernel, frame)!;
  const e = new Emitter('t');
  p.fragment(e, 'reject');
  e.label('reject').ret(0);
  return { p, linked: link([...e.insns, ...p.subprograms]) };
}

const calls = (l: ReturnType<typeof link>) => l.instructions.filter((i) => i.isFunctionCall).length;

describe('pcapFilters', () => {
  it('is absent without any expression', () => {
    expect(pcapFilters({ expr: '', tunnelL2: '', tunnelL3: '' }, kernel, frame)).toBeUndefined();
  });

  it('compiles an L2 and an L3 function and picks one by skb->mac_len', () => {
    const { p, linked } = fragmentOf('dst host 10.0.0.1 and tcp');
    expect(p.subprograms[0]!.symbol).toBe('pwru_pcap_l2');
    expect(linked.symbols.has('pwru_pcap_l3')).toBe(true);
    expect(calls(linked)).toBe(2);
  });

  it('rejects every packet at L3 for an L2-only expression, as upstream', () => {
    const { linked } = fragmentOf('arp');
    expect(linked.symbols.has('pwru_pcap_l3')).toBe(false);
    expect(calls(linked)).toBe(1);
  });

  it('adds the tunnel filters on the inner headers', () => {
    const { linked } = fragmentOf('udp port 4789', 'tcp', 'tcp port 80');
    expect(linked.symbols.has('pwru_pcap_tunnel_l2')).toBe(true);
    expect(linked.symbols.has('pwru_pcap_tunnel_l3')).toBe(true);
    expect(calls(linked)).toBe(4);
  });

  it('fails with one line naming the expression', () => {
    expect(() => pcapFilters({ expr: 'tcp and', tunnelL2: '', tunnelL3: '' }, kernel, frame)).toThrow(
      /^failed to compile pcap filter 'tcp and': /,
    );
    expect(() => pcapFilters({ expr: '', tunnelL2: 'ether host', tunnelL3: '' }, kernel, frame)).toThrow(/tunnel/);
  });
});
