#!/usr/bin/env node
// @ts-check
// Counts the packets matching a tcpdump expression on an interface in another network namespace:
// pcap2ebpf compiles the expression into an XDP program whose onMatch hook counts per ingress
// interface; bpf-loader-ts attaches it inside the namespace with { netns }.
// Run as root: node examples/tcpdump-counter.mjs ['udp dst port 4242']
import { incrementCounter, link, LoadMem, R1, R8, XdpAction, XdpMdOffset } from 'bpf-asm-ts';
import { attachXdp, BpfMap, codec, MapType, MapView, Program, XdpMode } from 'bpf-loader-ts';
import { compileFilter, xdpProgram } from 'pcap2ebpf';
import { netnsPair } from './netns.mjs';

const expression = process.argv[2] ?? 'udp dst port 4242';

// The filter as classic BPF, then as an XDP program that lets every packet pass and, on a match,
// adds one to perIf[ingress ifindex].
const filter = xdpProgram(compileFilter(expression).instructions, {
  verdict: { accept: XdpAction.PASS, reject: XdpAction.PASS },
  onMatch: [LoadMem(R8, R1, XdpMdOffset.ingress_ifindex, 'u32'), ...incrementCounter({ map: 'per_if', key: R8 })],
});

const pair = netnsPair(); // veth0 in namespace a <-> veth1 in namespace b
const perIf = BpfMap.create({ name: 'per_if', type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 64 });
let prog;
let attached;
try {
  prog = Program.load({
    name: 'pcap_count',
    type: filter.type,
    instructions: link(filter.instructions),
    maps: { per_if: perIf },
  });
  // The interface name is resolved in namespace b, and the link made there: no second process.
  attached = attachXdp(prog, 'veth1', { netns: pair.b, mode: XdpMode.SKB });

  pair.send(4242, 5); // five datagrams that match the default expression
  pair.send(4243, 3); // three that do not

  for (const [ifindex, packets] of new MapView(perIf, codec.u32, codec.u64)) {
    console.log(`${packets} packets matched '${expression}' on ifindex ${ifindex} in netns ${pair.b}`);
  }
} finally {
  attached?.close();
  prog?.close();
  perIf.close();
  pair.destroy();
}
