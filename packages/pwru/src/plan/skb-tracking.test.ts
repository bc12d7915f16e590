import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Btf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import type { KernelFeatures } from '../backend.js';
import { parseArgs } from '../flags/parse.js';
import { eventLayout } from '../event.js';
import { kernelLayoutFromBtf } from '../generate/btf-layout.js';
import type { FentrySignature } from '../generate/fentry-args.js';
import { planTrace } from './programs.js';
import { Logger } from '../log.js';
import {
  nonSkbFunctions,
  planTracking,
  trackingWanted,
  type TrackerProgram,
  UNCONFIRMED_TTL_NS,
} from './skb-tracking.js';

const btf = Btf.parse(gunzipSync(readFileSync(new URL('../../../btf/test/data/vmlinux-6.1.btf.gz', import.meta.url))));
const kernel = kernelLayoutFromBtf(btf);
const NONE: KernelFeatures = {
  kprobes: false,
  kprobeMulti: false,
  availableFilterFunctions: false,
  tpBtf: true,
  fentry: false,
};
const KPROBES: KernelFeatures = { ...NONE, kprobes: true, availableFilterFunctions: true };
const BOTH: KernelFeatures = { ...KPROBES, fentry: true };
const opts = (...args: string[]) => parseArgs(args).options;
const hooks = (ts: readonly TrackerProgram[]) =>
  ts.map(
    (t) =>
      `${t.order} ${t.hook.type === 'kprobe' && t.hook.retprobe ? 'kretprobe' : t.hook.type} ${'fn' in t.hook ? t.hook.fn : t.hook.name}`,
  );

describe('which flags turn tracking on', () => {
  it('none by default', () => expect(trackingWanted(opts())).toBeUndefined());
  it('--filter-track-skb: by address', () =>
    expect(trackingWanted(opts('--filter-track-skb'))).toEqual({ skb: true, byStackid: false }));
  it('--filter-non-skb-funcs implies by-stackid tracking, without --filter-track-skb (upstream aborts)', () => {
    expect(trackingWanted(opts('--filter-non-skb-funcs', 'nf_nat_setup_info'))).toEqual({
      skb: false,
      byStackid: true,
    });
  });
});

describe('planTracking', () => {
  it('plans nothing without a tracking flag', () => {
    expect(planTracking({ opts: opts(), backend: 'kprobe', features: KPROBES, btf, kernel })).toBeUndefined();
  });

  it('with kprobes and fentry (the 6.1 VM): kprobe on kfree_skbmem, fexit on clones and copies, a kprobe pair on veth rebuilds', () => {
    const p = planTracking({ opts: opts('--filter-track-skb'), backend: 'kprobe', features: BOTH, btf, kernel })!;
    expect(hooks(p.trackers)).toEqual([
      'before kprobe kfree_skbmem',
      'before fexit skb_clone',
      'before fexit skb_copy',
      'before fexit __pskb_copy_fclone',
      'before fexit skb_copy_expand',
      'before kprobe veth_convert_skb_to_xdp_buff',
      'before kretprobe veth_convert_skb_to_xdp_buff',
    ]);
    expect(p.limits).toEqual([]);
  });

  it('with kprobes only: kprobe+kretprobe pairs follow clones', () => {
    const p = planTracking({ opts: opts('--filter-track-skb'), backend: 'kprobe', features: KPROBES, btf, kernel })!;
    expect(hooks(p.trackers).slice(0, 3)).toEqual([
      'before kprobe kfree_skbmem',
      'before kprobe skb_clone',
      'before kretprobe skb_clone',
    ]);
  });

  it('with neither (the 6.18 host): forgets at the freeing tracepoints and at the ends of paths whose free none sees, after the event programs, and says what it cannot do', () => {
    const p = planTracking({ opts: opts('--filter-track-skb'), backend: 'tracepoint', features: NONE, btf, kernel })!;
    expect(hooks(p.trackers).sort()).toEqual([
      'after tracepoint consume_skb',
      'after tracepoint kfree_skb',
      'after tracepoint skb_copy_datagram_iovec', // delivered to user space, then freed unseen
      'after tracepoint tcp_probe', // pure ACKs, freed by __kfree_skb
    ]);
    expect(p.limits.join('\n')).toMatch(/clones and copies of a tracked skb are not followed/);
    expect(p.limits.join('\n')).toMatch(/veth XDP are not followed/);
    expect(p.limits.join('\n')).toMatch(/forgotten 100 ms after it was last seen.*marked "\(tracked only\)"/);
  });

  it('with neither: tracked skbs still run the filters and expire (unconfirmed tracking); with kprobes or fentry they need not', () => {
    expect(
      planTracking({ opts: opts('--filter-track-skb'), backend: 'tracepoint', features: NONE, btf, kernel })!.gen
        .unconfirmed,
    ).toEqual({ ttlNs: UNCONFIRMED_TTL_NS });
    expect(
      planTracking({ opts: opts('--filter-track-skb'), backend: 'tracepoint', features: KPROBES, btf, kernel })!.gen
        .unconfirmed,
    ).toBeUndefined();
    expect(
      planTracking({
        opts: opts('--filter-track-skb'),
        backend: 'fentry',
        features: { ...NONE, fentry: true },
        btf,
        kernel,
      })!.gen.unconfirmed,
    ).toBeUndefined();
    expect(
      planTracking({ opts: opts('--filter-track-skb-by-stackid'), backend: 'tracepoint', features: NONE, btf, kernel })!
        .gen.unconfirmed,
    ).toBeUndefined();
  });

  it('fentry backend: forgets at fexit of kfree_skbmem, after every fentry program there (even where kprobes exist)', () => {
    const p = planTracking({ opts: opts('--filter-track-skb'), backend: 'fentry', features: BOTH, btf, kernel })!;
    expect(hooks(p.trackers)[0]).toBe('before fexit kfree_skbmem');
  });

  it('only missing clone followers are optional; forgetting freed skbs is not', () => {
    const p = planTracking({
      opts: opts('--filter-track-skb'),
      backend: 'fentry',
      features: { ...NONE, fentry: true },
      btf,
      kernel,
    })!;
    expect(p.trackers.find((t) => t.name === 'pwru_forget')).toMatchObject({
      hook: { type: 'fexit', fn: 'kfree_skbmem' },
      optional: false,
    });
    expect(p.trackers.filter((t) => t.name !== 'pwru_forget').every((t) => t.optional)).toBe(true);
  });

  it('by-stackid alone follows no clones (its maps are keyed by stack)', () => {
    const p = planTracking({
      opts: opts('--filter-track-skb-by-stackid'),
      backend: 'kprobe',
      features: BOTH,
      btf,
      kernel,
    })!;
    expect(hooks(p.trackers)).toEqual(['before kprobe kfree_skbmem']);
    expect(p.gen).toMatchObject({ skb: false, byStackid: true });
  });

  it('--filter-non-skb-funcs on the tracepoint backend is a one-line error naming what is missing', () => {
    expect(() =>
      planTracking({
        opts: opts('--filter-non-skb-funcs', 'nf_nat_setup_info'),
        backend: 'tracepoint',
        features: NONE,
        btf,
        kernel,
      }),
    ).toThrow(
      '--filter-non-skb-funcs is not available on this kernel: it attaches kprobes or fentry programs to arbitrary kernel functions, and this kernel has neither (CONFIG_KPROBES off, BPF trampolines refused)',
    );
    expect(() =>
      planTracking({
        opts: opts('--filter-non-skb-funcs', 'nf_nat_setup_info'),
        backend: 'tracepoint',
        features: KPROBES,
        btf,
        kernel,
      }),
    ).toThrow(/use --backend=kprobe or --backend=fentry/);
  });
});

describe('nonSkbFunctions', () => {
  const log = new Logger({ write: () => {} } as never);
  it("sorts and dedups, drops functions already traced for their skb and '[bpf]' symbols, as upstream", () => {
    const o = opts(
      '--filter-non-skb-funcs',
      'nf_nat_setup_info,ip_rcv',
      '--filter-non-skb-funcs',
      'nf_nat_setup_info,bpf_prog_x[bpf],__nf_conntrack_confirm',
    );
    expect(
      nonSkbFunctions(o, btf, 'kprobe', [{ name: 'ip_rcv', position: 1 }], undefined, log)!.map((f) => f.name),
    ).toEqual(['__nf_conntrack_confirm', 'nf_nat_setup_info']);
  });

  it('fentry: records each signature, skipping names without BTF', () => {
    const sigs = new Map<string, FentrySignature>();
    const warnings: string[] = [];
    const warnLog = { warn: (m: string) => warnings.push(m) } as unknown as Logger;
    const out = nonSkbFunctions(
      opts('--filter-non-skb-funcs', 'ip_route_output_flow,no_such_function'),
      btf,
      'fentry',
      [],
      sigs,
      warnLog,
    )!;
    expect(out.map((f) => f.name)).toEqual(['ip_route_output_flow']);
    expect(sigs.get('ip_route_output_flow')?.argCount).toBe(3);
    expect(warnings).toHaveLength(1);
  });
});

describe('planTrace with --filter-non-skb-funcs', () => {
  const gen = planTracking({
    opts: opts('--filter-non-skb-funcs', 'nf_nat_setup_info'),
    backend: 'kprobe',
    features: KPROBES,
    btf,
    kernel,
  })!.gen;
  const base = {
    layout: eventLayout({ meta: true, cb: false, tuple: true, tunnel: false, stack: false, caller: false }),
    kernel,
    filters: { mark: 0, mask: 0, netns: 0, ifindex: 0 },
    fragments: [],
    functions: [{ name: 'ip_rcv', position: 1 }],
    haveFuncIp: true,
    track: gen,
    nonSkb: [
      { name: 'nf_nat_setup_info', position: 1 },
      { name: 'ip_route_output_flow', position: 1 },
    ],
  };

  it('kprobe and kprobe-multi: one unfiltered kprobe program on every non-skb function, counted as targets', () => {
    for (const backend of ['kprobe', 'kprobe-multi'] as const) {
      const plan = planTrace({ ...base, backend });
      const ns = plan.programs.filter((p) => p.unfiltered);
      expect(ns.map((p) => [p.kind, p.attach.type])).toEqual([['kprobe', 'kprobe']]);
      expect(plan.targets).toBe(3);
    }
  });

  it('fentry: one program per function with a BTF signature', () => {
    const sig = btf.findType('ip_route_output_flow', 'func')!;
    const plan = planTrace({
      ...base,
      backend: 'fentry',
      signatures: new Map([['ip_route_output_flow', { btfId: sig.id, argCount: 3 }]]),
    });
    expect(plan.programs.filter((p) => p.unfiltered).map((p) => p.attach)).toEqual([
      { type: 'fentry', function: { name: 'ip_route_output_flow', position: 1 }, btfId: sig.id },
    ]);
  });
});
