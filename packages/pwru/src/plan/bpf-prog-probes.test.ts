import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { link } from 'bpf-asm-ts';
import { Btf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import type { BpfProgTarget } from '../discovery/bpf-progs.js';
import { EventKind, eventLayout, HEADER } from '../event.js';
import { kernelLayoutFromBtf } from '../generate/btf-layout.js';
import { pcapFilters, pcapL2Function } from '../generate/pcap.js';
import { frameFor } from '../generate/program.js';
import { compileFilterExpr, filterExprFragment, XDP_EXPR_ROOT } from '../filter-expr/index.js';
import { compileXdpMetadata } from '../generate/skb-metadata.js';
import { xdpFrameFor, xdpLayoutFromBtf } from '../generate/xdp.js';
import { bpfProgTracingOf, checkXdpOptions, planBpfProgs } from './bpf-prog-probes.js';

const btf = Btf.parse(gunzipSync(readFileSync(new URL('../../../btf/test/data/vmlinux-6.1.btf.gz', import.meta.url))));
const kernel = kernelLayoutFromBtf(btf);

describe('bpfProgTracingOf', () => {
  it('traces what --filter-trace-tc/-xdp ask for; --trace-only-bpf alone means both', () => {
    const o = (tc: boolean, xdp: boolean, only: boolean) =>
      bpfProgTracingOf({ filterTraceTc: tc, filterTraceXdp: xdp, traceOnlyBpf: only });
    expect(o(false, false, false)).toEqual({ tc: false, xdp: false, only: false });
    expect(o(true, false, false)).toEqual({ tc: true, xdp: false, only: false });
    expect(o(false, false, true)).toEqual({ tc: true, xdp: true, only: true });
    expect(o(false, true, true)).toEqual({ tc: false, xdp: true, only: true });
  });

  it('refuses XDP-only options without XDP tracing instead of ignoring them', () => {
    const none = bpfProgTracingOf({ filterTraceTc: true, filterTraceXdp: false });
    expect(() => checkXdpOptions({ filterXdpExpr: 'xdp->data != 0', outputXdpMetadata: [] }, none)).toThrow(
      '--filter-xdp-expr needs --filter-trace-xdp (or --trace-only-bpf)',
    );
    expect(() => checkXdpOptions({ filterXdpExpr: '', outputXdpMetadata: ['xdp->data'] }, none)).toThrow(
      /--output-xdp-metadata needs/,
    );
    expect(() =>
      checkXdpOptions(
        { filterXdpExpr: 'xdp->data != 0', outputXdpMetadata: [] },
        bpfProgTracingOf({ filterTraceTc: false, filterTraceXdp: true }),
      ),
    ).not.toThrow();
  });
});

describe('planBpfProgs', () => {
  const targets: BpfProgTarget[] = [
    { id: 40, name: 'cls', tag: '98075f36efc813b3', hook: 'tc', entry: 'tc_main' },
    { id: 41, name: 'x', tag: '31205a4510f2c168', hook: 'xdp', entry: 'xdp_main' },
  ];
  const layout = eventLayout({
    meta: true,
    cb: true,
    tuple: true,
    tunnel: false,
    stack: false,
    caller: false,
    metadata: 1,
  });
  const xdpLayout = xdpLayoutFromBtf(btf);
  const xdpFrame = xdpFrameFor(xdpLayout);
  const skbPcap = pcapFilters({ expr: 'tcp and dst port 8080', tunnelL2: '', tunnelL3: '' }, kernel, frameFor(kernel))!;
  const plan = planBpfProgs({
    targets,
    firstSite: 3,
    layout,
    kernel,
    haveFuncIp: true,
    tc: {
      filters: { mark: 0, mask: 0, netns: 0, ifindex: 0, fragments: [skbPcap.fragment] },
      subprograms: skbPcap.subprograms,
      metadata: [],
    },
    xdp: {
      layout: xdpLayout,
      netns: 4026531840,
      ifindex: 2,
      pcap: {
        name: 'pwru_xdp_pcap_l2',
        insns: pcapL2Function('tcp and dst port 8080', 'pwru_xdp_pcap_l2', xdpFrame.size),
      },
      fragments: [filterExprFragment(compileFilterExpr(btf, 'xdp->rxq->queue_index == 0', XDP_EXPR_ROOT), xdpFrame)],
      metadata: compileXdpMetadata(btf, ['xdp->rxq->queue_index']),
    },
  });

  it('plans one fentry program per target, each with its own site named as upstream prints it', () => {
    expect(plan.sites).toEqual([
      { name: 'bpf_prog_98075f36efc813b3_tc_main[bpf](tc)' },
      { name: 'bpf_prog_31205a4510f2c168_xdp_main[bpf](xdp)' },
    ]);
    expect(plan.programs.map((p) => [p.name, p.kind, p.attach])).toEqual([
      ['pwru_tc_0', 'fentry', { type: 'bpf-prog', target: targets[0], mode: 'fentry' }],
      ['pwru_xdp_1', 'fentry', { type: 'bpf-prog', target: targets[1], mode: 'fentry' }],
    ]);
  });

  it('writes each event with its site and the tc or XDP event kind', () => {
    const stores = (i: number) => plan.programs[i]!.insns.filter((x) => (x.opcode & 7) === 2 && x.dst === 8); // BPF_ST into the event (r8)
    for (const [i, site, kind] of [
      [0, 3, EventKind.Tc],
      [1, 4, EventKind.Xdp],
    ] as const) {
      const imms = stores(i).map((x) => [x.offset, x.imm]);
      expect(imms).toContainEqual([HEADER.site, site]);
      expect(imms).toContainEqual([HEADER.kind, kind]);
    }
  });

  it('gives tc programs the skb filters and XDP programs only the L2 pcap function, and both link', () => {
    const calls = (i: number) => plan.programs[i]!.insns.filter((x) => x.isFunctionCall).map((x) => x.reference);
    expect(calls(0)).toEqual(expect.arrayContaining(['pwru_pcap_l2', 'pwru_pcap_l3']));
    expect(calls(1)).toEqual(['pwru_xdp_pcap_l2']);
    for (const p of plan.programs) expect(() => link(p.insns)).not.toThrow();
    expect(plan.programs[1]!.insns.some((x) => x.comment?.startsWith('filter: --filter-xdp-expr'))).toBe(true);
    expect(plan.programs[1]!.insns.some((x) => x.comment?.startsWith('event: --output-xdp-metadata'))).toBe(true);
  });

  it('refuses an XDP target without XDP options', () => {
    expect(() =>
      planBpfProgs({
        targets,
        firstSite: 0,
        layout,
        kernel,
        haveFuncIp: false,
        tc: { filters: { mark: 0, mask: 0, netns: 0, ifindex: 0 }, subprograms: [], metadata: [] },
      }),
    ).toThrow(/no XDP options/);
  });

  it('--filter-track-skb links XDP buffers and skbs through one map, on both sides', () => {
    const track = { skb: true, byStackid: false, stack: { taskStack: 0, threadSize: 0 }, xdpHeads: true };
    const linked = planBpfProgs({
      targets,
      firstSite: 0,
      layout,
      kernel,
      haveFuncIp: true,
      tc: { filters: { mark: 0, mask: 0, netns: 0, ifindex: 0 }, subprograms: [], metadata: [], track },
      xdp: { layout: xdpLayout, netns: 0, ifindex: 0, fragments: [], metadata: [], linkSkbHeads: true },
    });
    const maps = (i: number, p = linked) =>
      p.programs[i]!.insns.filter((x) => x.reference !== undefined && x.isLoadImm64).map((x) => x.reference);
    expect(maps(0)).toContain('xdp_skb_heads'); // the tc (skb) program looks up and records skb->head
    expect(maps(1)).toContain('xdp_skb_heads'); // the XDP program looks up and records data_hard_start
    expect(maps(1, plan)).not.toContain('xdp_skb_heads');
    for (const p of linked.programs) expect(() => link(p.insns)).not.toThrow();
  });

  it('--output-pcapng: tc and XDP programs copy their packet to the skb_packets ring', () => {
    const copying = planBpfProgs({
      targets,
      firstSite: 0,
      layout,
      kernel,
      haveFuncIp: true,
      tc: { filters: { mark: 0, mask: 0, netns: 0, ifindex: 0 }, subprograms: [], metadata: [] },
      xdp: { layout: xdpLayout, netns: 0, ifindex: 0, fragments: [], metadata: [] },
      packets: { snaplen: 256, data: { offset: 200, size: 8 } },
    });
    const maps = (i: number, p = copying) =>
      p.programs[i]!.insns.filter((x) => x.reference !== undefined && x.isLoadImm64).map((x) => x.reference);
    for (const i of [0, 1]) expect(maps(i)).toEqual(expect.arrayContaining(['skb_packet_buf', 'skb_packets']));
    for (const i of [0, 1]) expect(maps(i, plan)).not.toContain('skb_packets');
    for (const p of copying.programs) expect(() => link(p.insns)).not.toThrow();
  });
});
