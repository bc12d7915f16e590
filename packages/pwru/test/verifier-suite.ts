import { loadKernelBtf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { discoverSkbTracepoints } from '../src/discovery/tracepoints.js';
import { eventLayout, type EventSections } from '../src/event.js';
import { kernelLayoutFromBtf } from '../src/generate/btf-layout.js';
import { pcapFilters } from '../src/generate/pcap.js';
import { frameFor } from '../src/generate/program.js';
import { compileFilterExpr, filterExprFragment, XDP_EXPR_ROOT } from '../src/filter-expr/index.js';
import { compileSkbMetadata } from '../src/generate/skb-metadata.js';
import { ctFieldsFromBtf } from '../src/ct/fields.js';
import { LoaderSession } from '../src/kernel/loader-session.js';
import { planTrace } from '../src/plan/programs.js';
import { selectBpfProgTargets } from '../src/discovery/bpf-progs.js';
import { pcapL2Function } from '../src/generate/pcap.js';
import { compileXdpMetadata } from '../src/generate/skb-metadata.js';
import { xdpFrameFor, xdpLayoutFromBtf } from '../src/generate/xdp.js';
import { planBpfProgs } from '../src/plan/bpf-prog-probes.js';
import { stackLayout } from '../src/plan/skb-tracking.js';
import { loadedPrograms } from 'bpf-loader-ts';
import { loadTcTarget, loadXdpTarget } from './bpf-targets.mjs';
import { returnVerifierTests } from './verifier-returns.js';
import { pcapngVerifierTests } from './verifier-pcapng.js';
import { parseArgs } from '../src/flags/parse.js';
import { createTrackMaps, loadTracker } from '../src/kernel/attach-trackers.js';
import { planTracking } from '../src/plan/skb-tracking.js';
import type { Backend } from '../src/backend.js';

/** A boolean filter expression with every construct: masks, strings, a cast through _nfct, enumerators. */
const SKB_EXPR =
  'skb->len > 10 && (skb->dev->name == "lo" || !(skb->mark & 0xff == 1)) && ' +
  '(!skb->_nfct || ((struct nf_conn *)(skb->_nfct & ~7))->status & IPS_CONFIRMED) && skb->pkt_type != 3 && (skb->_nfct & 7) <= IP_CT_RELATED_REPLY';

const NONE: EventSections = { meta: false, cb: false, tuple: false, tunnel: false, stack: false, caller: false };
const COMBOS: Array<[string, EventSections]> = [
  ['no output', NONE],
  ['default (meta, tuple)', { ...NONE, meta: true, tuple: true }],
  [
    'everything',
    { meta: true, cb: true, tuple: true, tunnel: true, stack: true, caller: true, metadata: 4, ct: true, wire: true },
  ],
];
const FILTERS: Array<[string, string]> = [
  ['none', ''],
  ['host and port', 'dst host 10.0.0.1 and port 8080'],
  ['tcp flags', 'tcp[tcpflags] = tcp-syn'],
  ['ip6 byte', 'ip6[53] & 0x3f = 0x2'],
  ['scratch memory', '(((ip[2:2] - ((ip[0]&0xf)<<2)) - ((tcp[12]&0xf0)>>2)) != 0)'],
  ['L2 only', 'arp and arp[7] = 1'],
  ['protochain loop', 'ip6 protochain 6'],
];

/**
 * Every generated program, for the output and filter combinations that change its code, must
 * pass the running kernel's verifier: tp_btf programs and kprobe programs (which load even where
 * they cannot attach, as on a kernel without CONFIG_KPROBES). Registered by verifier.test.ts
 * (the host's kernel) and verifier.vm.test.ts (Debian 6.1 in tools/vm).
 */
export function verifierSuite(kernelName: string): void {
  const skip = process.getuid?.() !== 0 ? 'needs root' : undefined;
  if (skip) console.log(`skipped: verifier tests on ${kernelName}: ${skip}`);
  describe.skipIf(skip !== undefined)(`generated programs pass the ${kernelName} verifier`, () => {
    const btf = loadKernelBtf();
    const kernel = kernelLayoutFromBtf(btf);
    // kprobe-multi programs (5.18+) read the skb position with bpf_get_attach_cookie: load them
    // only where this kernel's BTF knows the attach type.
    const attachTypes = btf.findType('bpf_attach_type', 'enum');
    const kprobeMulti =
      attachTypes?.kind === 'enum' && attachTypes.values.some((v) => v.name === 'BPF_TRACE_KPROBE_MULTI');
    if (!kprobeMulti)
      console.log(
        `skipped: kprobe-multi programs in the ${kernelName} verifier suite: the kernel has no BPF_TRACE_KPROBE_MULTI (5.18+)`,
      );
    const frame = frameFor(kernel);
    const ct = ctFieldsFromBtf(btf);
    const metadata = compileSkbMetadata(btf, ['skb->hash', 'skb->dev->ifindex', 'skb->pkt_type', 'skb->dev']);
    const kfree = discoverSkbTracepoints(btf, (n) => n === 'kfree_skb' || n === 'net_dev_queue');

    for (const [what, sections] of COMBOS) {
      for (const [fname, expr] of FILTERS) {
        it(`${what}, pcap filter: ${fname}`, () => {
          const pcap = pcapFilters(
            { expr, tunnelL2: fname === 'host and port' ? 'udp' : '', tunnelL3: '' },
            kernel,
            frame,
          );
          const fragments = [
            ...(pcap ? [pcap.fragment] : []),
            filterExprFragment(compileFilterExpr(btf, SKB_EXPR), frame),
          ];
          const filters = { mark: 0xa00, mask: 0xf00, netns: 4026531840, ifindex: 1 };
          const session = new LoaderSession(btf, 10);
          try {
            session.createMaps({ ringBytes: 1 << 16, stacks: sections.stack });
            // tp_btf programs, and where raw_tp links take cookies (6.10+) the shared raw_tp ones too.
            const tps = (session.haveRawTpCookies() ? [false, true] : [false]).map((rawTpCookies) =>
              planTrace({
                backend: 'tracepoint',
                rawTpCookies,
                layout: eventLayout({ ...sections, caller: false }),
                kernel,
                filters,
                fragments,
                tracepoints: kfree,
                haveFuncIp: false,
                metadata: metadata.slice(0, sections.metadata ?? 0),
                ...(sections.ct ? { ct } : {}),
              }),
            );
            // kprobe: one program per skb position; kprobe-multi: one program, position from the cookie.
            const [kp, km] = (kprobeMulti ? (['kprobe', 'kprobe-multi'] as const) : (['kprobe'] as const)).map(
              (backend) =>
                planTrace({
                  backend,
                  layout: eventLayout(sections),
                  kernel,
                  filters,
                  fragments,
                  functions: [1, 3, 5].map((position) => ({ name: `f${position}`, position })),
                  haveFuncIp: session.haveFuncIp(),
                  metadata: metadata.slice(0, sections.metadata ?? 0),
                  ...(sections.ct ? { ct } : {}),
                }),
            );
            for (const p of [...tps.flatMap((tp) => tp.programs), ...kp!.programs, ...(km?.programs ?? [])]) {
              if (pcap) p.insns.push(...pcap.subprograms);
              expect(() => session.load(p)).not.toThrow();
            }
          } finally {
            session.close();
          }
        });
      }
    }

    // fentry on tc and XDP programs (--filter-trace-tc/-xdp), where the kernel allows fentry.
    const fentry = new LoaderSession(btf, 10).features().fentry;
    if (!fentry) console.log(`skipped: tc/XDP tracer verifier tests on ${kernelName}: the kernel refuses fentry`);
    // --filter-track-skb with XDP tracing: both sides of the XDP buffer / skb link.
    it.skipIf(!fentry)('tc and XDP tracers linking XDP buffers and skbs (--filter-track-skb)', () => {
      const tcTarget = loadTcTarget('pwrut_ltc');
      const xdpTarget = loadXdpTarget('pwrut_lxdp');
      const session = new LoaderSession(btf, 10);
      try {
        const ids = new Set([tcTarget.program.info().id, xdpTarget.program.info().id]);
        const { targets } = selectBpfProgTargets(loadedPrograms({ filter: (i) => ids.has(i.id) }), {
          tc: true,
          xdp: true,
        });
        const track = { skb: true, byStackid: true, stack: stackLayout(btf), xdpHeads: true };
        const plan = planBpfProgs({
          targets,
          firstSite: 0,
          layout: eventLayout({ ...COMBOS[1]![1] }),
          kernel,
          haveFuncIp: session.haveFuncIp(),
          tc: { filters: { mark: 0, mask: 0, netns: 0, ifindex: 0 }, subprograms: [], metadata: [], track },
          xdp: { layout: xdpLayoutFromBtf(btf), netns: 0, ifindex: 0, fragments: [], metadata: [], linkSkbHeads: true },
        });
        session.createMaps({ ringBytes: 1 << 16, stacks: false, track: true });
        for (const p of plan.programs) expect(() => session.load(p)).not.toThrow();
      } finally {
        session.close();
        tcTarget.program.close();
        xdpTarget.program.close();
      }
    });

    const xdpLayout = xdpLayoutFromBtf(btf);
    const xdpFrame = xdpFrameFor(xdpLayout);
    const xdpMetadata = compileXdpMetadata(btf, [
      'xdp->rxq->queue_index',
      'xdp->rxq->dev->ifindex',
      'xdp->data',
      'xdp->frame_sz',
    ]);
    for (const [what, sections] of COMBOS) {
      for (const [fname, expr] of FILTERS) {
        it.skipIf(!fentry)(`tc and XDP tracers: ${what}, pcap filter: ${fname}`, () => {
          const tcTarget = loadTcTarget('pwrut_vtc');
          const xdpTarget = loadXdpTarget('pwrut_vxdp');
          const session = new LoaderSession(btf, 10);
          try {
            const ids = new Set([tcTarget.program.info().id, xdpTarget.program.info().id]);
            const { targets } = selectBpfProgTargets(loadedPrograms({ filter: (i) => ids.has(i.id) }), {
              tc: true,
              xdp: true,
            });
            const pcap = pcapFilters({ expr, tunnelL2: '', tunnelL3: '' }, kernel, frame);
            const layout = eventLayout({ ...sections, caller: false });
            const n = sections.metadata ?? 0;
            const plan = planBpfProgs({
              targets,
              firstSite: 0,
              layout,
              kernel,
              haveFuncIp: session.haveFuncIp(),
              tc: {
                filters: {
                  mark: 0xa00,
                  mask: 0xf00,
                  netns: 4026531840,
                  ifindex: 1,
                  fragments: [
                    ...(pcap ? [pcap.fragment] : []),
                    filterExprFragment(compileFilterExpr(btf, SKB_EXPR), frame),
                  ],
                },
                subprograms: pcap?.subprograms ?? [],
                metadata: metadata.slice(0, n),
              },
              xdp: {
                layout: xdpLayout,
                netns: 4026531840,
                ifindex: 1,
                ...(expr
                  ? {
                      pcap: {
                        name: 'pwru_xdp_pcap_l2',
                        insns: pcapL2Function(expr, 'pwru_xdp_pcap_l2', xdpFrame.size),
                      },
                    }
                  : {}),
                fragments: [
                  filterExprFragment(
                    compileFilterExpr(
                      btf,
                      'xdp->rxq->queue_index == 0 || !(xdp->rxq->dev->name == "lo")',
                      XDP_EXPR_ROOT,
                    ),
                    xdpFrame,
                  ),
                ],
                metadata: xdpMetadata.slice(0, n),
              },
            });
            session.createMaps({ ringBytes: 1 << 16, stacks: sections.stack });
            expect(plan.programs).toHaveLength(2);
            for (const p of plan.programs) expect(() => session.load(p)).not.toThrow();
          } finally {
            session.close();
            tcTarget.program.close();
            xdpTarget.program.close();
          }
        });
      }
    }
    returnVerifierTests(btf, kernel, COMBOS);
    pcapngVerifierTests(btf, kernel, COMBOS, kprobeMulti);
  });
}

const TRACK_FLAGS: string[][] = [
  ['--filter-track-skb'],
  ['--filter-track-skb-by-stackid'],
  ['--filter-track-skb', '--filter-non-skb-funcs', 'ip_route_output_flow'],
];

/**
 * The programs skb tracking adds: event programs with the look-up and record steps, the
 * `--filter-non-skb-funcs` program, and every map-maintenance program this kernel's features
 * (and, for loading only, a kprobe kernel's) would attach.
 */
export function trackingVerifierSuite(kernelName: string): void {
  const skip = process.getuid?.() !== 0 ? 'needs root' : undefined;
  describe.skipIf(skip !== undefined)(`skb-tracking programs pass the ${kernelName} verifier`, () => {
    const btf = loadKernelBtf();
    const kernel = kernelLayoutFromBtf(btf);
    const frame = frameFor(kernel);
    const tracepoints = discoverSkbTracepoints(btf, (n) => n === 'kfree_skb');
    const fentryTarget = btf.findType('ip_rcv', 'func');

    for (const flags of TRACK_FLAGS) {
      it(flags.join(' '), () => {
        const opts = parseArgs(flags).options;
        const pcap = pcapFilters(
          { expr: 'dst host 10.0.0.1 and port 8080', tunnelL2: '', tunnelL3: '' },
          kernel,
          frame,
        )!;
        const session = new LoaderSession(btf, 10);
        const maps = createTrackMaps();
        try {
          session.createMaps({ ringBytes: 1 << 16, stacks: false, track: true });
          const features = session.features();
          const layout = eventLayout({
            meta: true,
            cb: false,
            tuple: true,
            tunnel: false,
            stack: false,
            caller: false,
          });
          const filters = { mark: 0, mask: 0, netns: 0, ifindex: 0 };
          const backends: Backend[] = ['kprobe', 'tracepoint', ...(features.fentry ? (['fentry'] as const) : [])];
          for (const backend of backends) {
            const nonSkb = opts.filterNonSkbFuncs.length > 0 && backend !== 'tracepoint';
            const track = planTracking({
              opts,
              backend: nonSkb ? backend : 'kprobe',
              features: { ...features, kprobes: true },
              btf,
              kernel,
            })!;
            const fentrySig = new Map(
              fentryTarget
                ? [
                    ['ip_rcv', { btfId: fentryTarget.id, argCount: 4 }],
                    ['ip_route_output_flow', { btfId: btf.findType('ip_route_output_flow', 'func')!.id, argCount: 3 }],
                  ]
                : [],
            );
            // With --filter-track-skb also as XDP tracing links it (skb->head <-> data_hard_start).
            for (const gen of track.gen.skb ? [track.gen, { ...track.gen, xdpHeads: true }] : [track.gen]) {
              const plan = planTrace({
                backend,
                layout,
                kernel,
                filters,
                fragments: [pcap.fragment],
                functions: [{ name: 'ip_rcv', position: 1 }],
                tracepoints,
                ...(backend === 'tracepoint' && session.haveRawTpCookies() ? { rawTpCookies: true } : {}),
                signatures: fentrySig,
                haveFuncIp: backend !== 'tracepoint' && session.haveFuncIp(),
                track: gen,
                ...(nonSkb ? { nonSkb: [{ name: 'ip_route_output_flow', position: 1 }] } : {}),
              });
              expect(plan.programs.some((p) => p.unfiltered)).toBe(nonSkb);
              for (const p of plan.programs) {
                if (!p.unfiltered) p.insns.push(...pcap.subprograms);
                expect(
                  () => session.load(p),
                  `${backend} ${p.name}${gen.xdpHeads ? ' (xdp heads)' : ''}`,
                ).not.toThrow();
              }
            }
          }
          // Map maintenance, as this kernel would attach it and as a kprobe kernel would.
          const variants: Array<[Backend, typeof features]> = [
            ['kprobe', { ...features, kprobes: true }],
            ['kprobe', { ...features, kprobes: true, fentry: false }],
            ['tracepoint', { ...features, kprobes: false, fentry: false }],
            ...(features.fentry ? [['fentry', features] as [Backend, typeof features]] : []),
          ];
          for (const [backend, f] of variants) {
            const t = planTracking({ opts: { ...opts, filterNonSkbFuncs: [] }, backend, features: f, btf, kernel })!;
            for (const tracker of t.trackers) {
              expect(() => loadTracker(tracker, maps).close(), `${backend}: ${tracker.name}`).not.toThrow();
            }
          }
        } finally {
          for (const m of Object.values(maps)) m.close();
          session.close();
        }
      });
    }
  });
}
