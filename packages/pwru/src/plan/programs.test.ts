import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Helper, link } from 'bpf-asm-ts';
import { Btf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { discoverSkbTracepoints } from '../discovery/tracepoints.js';
import { eventLayout } from '../event.js';
import { kernelLayoutFromBtf } from '../generate/btf-layout.js';
import { planTrace } from './programs.js';

const btf = Btf.parse(gunzipSync(readFileSync(new URL('../../../btf/test/data/vmlinux-6.1.btf.gz', import.meta.url))));
const base = {
  layout: eventLayout({ meta: true, cb: false, tuple: true, tunnel: false, stack: false, caller: false }),
  kernel: kernelLayoutFromBtf(btf),
  filters: { mark: 0, mask: 0, netns: 0, ifindex: 0 },
  fragments: [],
  haveFuncIp: true,
};

const FUNCTIONS = [
  { name: 'ip_rcv', position: 1 },
  { name: 'tcp_v4_rcv', position: 1 },
  { name: 'nf_hook_slow', position: 1 },
  { name: 'ip_finish_output2', position: 3 },
];

describe('planTrace', () => {
  it('makes one tp_btf program per skb tracepoint, named by site, kfree_skb carrying its reason', () => {
    const tps = discoverSkbTracepoints(btf, () => true);
    const plan = planTrace({ ...base, backend: 'tracepoint', tracepoints: tps });
    expect(plan.programs.length).toBe(tps.length);
    expect(plan.targets).toBe(tps.length);
    const i = plan.sites.findIndex((s) => s.name === 'kfree_skb');
    expect(plan.sites[i]).toEqual({ name: 'kfree_skb', reason: 'p2' });
    expect(plan.programs[i]!.attach).toMatchObject({ type: 'tracepoint', name: 'kfree_skb' });
    for (const p of plan.programs) expect(() => link(p.insns)).not.toThrow();
  });

  it('fentry without bpf_get_func_ip (before 5.15): each program names its function in a site of its own', () => {
    const fns = [...FUNCTIONS, { name: 'kfree_skb_reason', position: 1 }];
    const signatures = new Map(
      fns.map((f, i) => [f.name, { btfId: 100 + i, argCount: 3, ctxReadable: [true, true, true] }]),
    );
    const without = planTrace({ ...base, haveFuncIp: false, backend: 'fentry', functions: fns, signatures });
    expect(without.sites).toEqual([
      ...FUNCTIONS.map((f) => ({ name: f.name })),
      { name: 'kfree_skb_reason', reason: 'p2' },
    ]);
    const withIp = planTrace({ ...base, backend: 'fentry', functions: fns, signatures });
    expect(withIp.sites).toEqual([{}]);
    expect(withIp.programs).toHaveLength(fns.length);
  });
  it('makes one kprobe program per skb position, as upstream', () => {
    const plan = planTrace({ ...base, backend: 'kprobe', functions: FUNCTIONS });
    expect(plan.programs.map((p) => p.name)).toEqual(['pwru_skb_1', 'pwru_skb_3']);
    expect(plan.targets).toBe(4);
    expect(plan.programs[1]!.attach).toEqual({ type: 'kprobe', functions: [FUNCTIONS[3]] });
  });
  it('makes ONE kprobe-multi program for every position: the position travels in the cookie, so one link', () => {
    const plan = planTrace({ ...base, backend: 'kprobe-multi', functions: FUNCTIONS });
    expect(plan.programs.map((p) => p.name)).toEqual(['pwru_skb_multi']);
    expect(plan.targets).toBe(4);
    expect(plan.programs[0]!.attach).toEqual({ type: 'kprobe-multi', functions: FUNCTIONS });
    // The prologue asks for the cookie instead of reading a fixed register.
    const calls = plan.programs[0]!.insns.filter((i) => i.opcode === 0x85).map((i) => i.imm);
    expect(calls).toContain(Helper.get_attach_cookie);
  });
});
