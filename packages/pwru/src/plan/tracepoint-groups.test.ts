import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Helper, link } from 'bpf-asm-ts';
import { Btf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { discoverSkbTracepoints } from '../discovery/tracepoints.js';
import { eventLayout } from '../event.js';
import { kernelLayoutFromBtf } from '../generate/btf-layout.js';
import { planTrace } from './programs.js';
import { groupTracepoints } from './tracepoint-groups.js';

const tp = (name: string, skbArg: number, reasonArg?: number) => ({
  name,
  btfId: 1,
  skbArg,
  ...(reasonArg !== undefined ? { reasonArg } : {}),
});

describe('groupTracepoints', () => {
  it('puts tracepoints with the same skb and reason arguments in one group, keeping their site indexes', () => {
    const groups = groupTracepoints([
      tp('kfree_skb', 0, 2),
      tp('consume_skb', 0),
      tp('net_dev_xmit', 0),
      tp('skb_copy_datagram_iovec', 0),
      tp('qdisc_dequeue', 3),
    ]);
    expect(groups.map((g) => [g.skbArg, g.reasonArg, g.members.map((m) => [m.tracepoint.name, m.site])])).toEqual([
      [0, 2, [['kfree_skb', 0]]],
      [
        0,
        undefined,
        [
          ['consume_skb', 1],
          ['net_dev_xmit', 2],
          ['skb_copy_datagram_iovec', 3],
        ],
      ],
      [3, undefined, [['qdisc_dequeue', 4]]],
    ]);
  });

  it('gives no groups for no tracepoints', () => {
    expect(groupTracepoints([])).toEqual([]);
  });
});

describe('planTrace with raw tracepoint cookies', () => {
  const btf = Btf.parse(
    gunzipSync(readFileSync(new URL('../../../btf/test/data/vmlinux-6.1.btf.gz', import.meta.url))),
  );
  const tps = discoverSkbTracepoints(btf, () => true);
  const plan = planTrace({
    backend: 'tracepoint',
    layout: eventLayout({ meta: true, cb: false, tuple: true, tunnel: false, stack: false, caller: false }),
    kernel: kernelLayoutFromBtf(btf),
    filters: { mark: 0, mask: 0, netns: 0, ifindex: 0 },
    fragments: [],
    haveFuncIp: false,
    tracepoints: tps,
    rawTpCookies: true,
  });

  it('loads one raw_tp program per argument group, linked to each member with its site as the cookie', () => {
    expect(plan.programs).toHaveLength(groupTracepoints(tps).length);
    expect(plan.programs.length).toBeLessThan(tps.length / 4);
    expect(plan.targets).toBe(tps.length);
    expect(plan.sites.map((s) => s.name)).toEqual(tps.map((t) => t.name));
    const cookies = plan.programs.flatMap((p) =>
      p.attach.type === 'raw-tracepoints' ? p.attach.tracepoints.map((t) => [t.name, t.cookie]) : [],
    );
    expect(new Map(cookies as [string, number][])).toEqual(new Map(tps.map((t, i) => [t.name, i])));
    const i = plan.sites.findIndex((s) => s.name === 'kfree_skb');
    expect(plan.sites[i]).toEqual({ name: 'kfree_skb', reason: 'p2' });
  });

  it('reads the site from the cookie instead of storing a constant', () => {
    for (const p of plan.programs) {
      const insns = link(p.insns).instructions;
      expect(insns.some((x) => x.opcode === 0x85 && x.imm === Helper.get_attach_cookie)).toBe(true);
    }
  });
});
