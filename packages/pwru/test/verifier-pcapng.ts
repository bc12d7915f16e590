import type { Btf } from 'btf-parser';
import { expect, it } from 'vitest';
import { eventLayout, type EventSections } from '../src/event.js';
import type { KernelLayout } from '../src/generate/layout.js';
import { pcapFilters } from '../src/generate/pcap.js';
import { frameFor } from '../src/generate/program.js';
import { planSkbDumps } from '../src/generate/skb-dump.js';
import { MAX_SNAPLEN, packetBufferValueSize, packetRingBytes, planSkbPackets } from '../src/generate/skb-packet.js';
import { discoverSkbTracepoints } from '../src/discovery/tracepoints.js';
import { LoaderSession } from '../src/kernel/loader-session.js';
import { planTrace } from '../src/plan/programs.js';

/**
 * `--output-pcapng`: event programs with the in-kernel packet copy (alone, and after the skb
 * dumps, which use the same registers) pass the verifier for the tracepoint and kprobe backends,
 * at the default and the largest snap length.
 */
export function pcapngVerifierTests(
  btf: Btf,
  kernel: KernelLayout,
  combos: ReadonlyArray<[string, EventSections]>,
  kprobeMulti: boolean,
): void {
  const tracepoints = discoverSkbTracepoints(btf, (n) => n === 'kfree_skb' || n === 'net_dev_queue');
  const frame = frameFor(kernel);
  for (const [what, sections] of combos) {
    for (const snaplen of [256, MAX_SNAPLEN]) {
      it(`--output-pcapng (snaplen ${snaplen}), ${what}: tracepoint and kprobe programs with the packet copy`, () => {
        const packets = planSkbPackets(btf, snaplen);
        const dumps = sections.stack
          ? planSkbDumps(btf, { skb: true, sharedInfo: false, bufferBytes: 4096 })
          : undefined;
        const pcap = pcapFilters({ expr: 'tcp port 8080', tunnelL2: '', tunnelL3: '' }, kernel, frame)!;
        const session = new LoaderSession(btf, 10);
        try {
          session.createMaps({
            ringBytes: 1 << 16,
            stacks: sections.stack,
            packets: { ringBytes: packetRingBytes(packets), bufferValueSize: packetBufferValueSize(packets) },
            ...(dumps ? { dumps: { ringBytes: 1 << 22, bufferValueSize: 24 + 4096 } } : {}),
          });
          const common = {
            kernel,
            filters: { mark: 0, mask: 0, netns: 0, ifindex: 0 },
            fragments: [pcap.fragment],
            packets,
            ...(dumps ? { dumps } : {}),
          };
          const plans = [
            planTrace({
              ...common,
              backend: 'tracepoint',
              layout: eventLayout({ ...sections, caller: false }),
              tracepoints,
              haveFuncIp: false,
            }),
            ...((kprobeMulti ? ['kprobe', 'kprobe-multi'] : ['kprobe']) as Array<'kprobe' | 'kprobe-multi'>).map(
              (backend) =>
                planTrace({
                  ...common,
                  backend,
                  layout: eventLayout(sections),
                  functions: [1, 3].map((position) => ({ name: `f${position}`, position })),
                  haveFuncIp: session.haveFuncIp(),
                }),
            ),
          ];
          for (const p of plans.flatMap((x) => x.programs)) {
            p.insns.push(...pcap.subprograms);
            expect(() => session.load(p)).not.toThrow();
          }
        } finally {
          session.close();
        }
      });
    }
  }
}
