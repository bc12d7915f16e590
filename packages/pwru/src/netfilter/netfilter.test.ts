import { Btf, BtfBuilder } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { Emitter } from '../generate/emitter.js';
import { eventLayout } from '../event.js';
import { emitNetfilterEntry, generateNetfilterReturn } from './emit.js';
import { LOADED_WITHOUT_BTF, netfilterFieldsFromBtf } from './fields.js';
import { netfilterJson, netfilterText, nfVerdictName } from './names.js';
import { NF, NfEngine, NfFlags, netfilterAt } from './section.js';

/**
 * A kernel's BTF in miniature: `nf_hook_state` (the 5.10 layout with an `unsigned int hook`, or
 * the later u8 one), and the walkers with the prototype of either era.
 */
function kernel(era: '5.10' | '6.1'): { vmlinux: Btf; modules: Map<string, Btf> } {
  const b = new BtfBuilder();
  const u8 = b.addInt('u8', 1);
  const u32 = b.addInt('unsigned int', 4);
  const char = b.addInt('char', 1, { char: true });
  const voidPtr = b.addPtr(0);
  const skb = b.addStruct('sk_buff', 232, []);
  const state = b.addStruct('nf_hook_state', 48, [
    { name: 'hook', type: era === '5.10' ? u32 : u8, bitOffset: 0 },
    { name: 'pf', type: u8, bitOffset: era === '5.10' ? 32 : 8 },
  ]);
  const xt = b.addStruct('xt_table', 96, [
    { name: 'valid_hooks', type: u32, bitOffset: 128 },
    { name: 'name', type: b.addArray(char, u32, 32), bitOffset: 64 * 8 },
  ]);
  const ipt =
    era === '5.10'
      ? b.addFuncProto(u32, [
          { name: 'skb', type: b.addPtr(skb) },
          { name: 'state', type: b.addPtr(b.addConst(state)) },
          { name: 'table', type: b.addPtr(xt) },
        ])
      : b.addFuncProto(u32, [
          { name: 'priv', type: voidPtr },
          { name: 'skb', type: b.addPtr(skb) },
          { name: 'state', type: b.addPtr(b.addConst(state)) },
        ]);
  b.addFunc('ipt_do_table', ipt);
  // nftables: 5.10 has pkt->xt.state, 6.x pkt->state.
  const xtParam = b.addStruct('xt_action_param', 40, [
    { name: 'state', type: b.addPtr(b.addConst(state)), bitOffset: 16 * 8 },
  ]);
  const pkt = b.addStruct('nft_pktinfo', 64, [
    { name: 'skb', type: b.addPtr(skb), bitOffset: 0 },
    era === '5.10'
      ? { name: 'xt', type: xtParam, bitOffset: 16 * 8 }
      : { name: 'state', type: b.addPtr(b.addConst(state)), bitOffset: 8 * 8 },
  ]);
  const table = b.addStruct('nft_table', 272, [{ name: 'name', type: b.addPtr(char), bitOffset: 248 * 8 }]);
  b.addStruct('nft_chain', 120, [
    { name: 'table', type: b.addPtr(table), bitOffset: 64 * 8 },
    { name: 'name', type: b.addPtr(char), bitOffset: 88 * 8 },
  ]);
  b.addFunc(
    'nft_do_chain',
    b.addFuncProto(u32, [
      { name: 'pkt', type: b.addPtr(pkt) },
      { name: 'priv', type: voidPtr },
    ]),
  );
  return { vmlinux: Btf.parse(b.build()), modules: new Map() };
}

const NONE = { meta: false, cb: false, tuple: false, tunnel: false, stack: false, caller: false };

/** A section as the two programs write it. */
function section(o: {
  engine: number;
  pf: number;
  hook: number;
  table: string;
  chain?: string;
  verdict?: number;
}): DataView {
  const v = new DataView(new ArrayBuffer(NF.size));
  v.setUint8(NF.engine, o.engine);
  v.setUint8(NF.pf, o.pf);
  v.setUint8(NF.hook, o.hook);
  v.setUint8(NF.flags, NfFlags.present | (o.verdict !== undefined ? NfFlags.returned : 0));
  [...o.table].forEach((c, i) => v.setUint8(NF.table + i, c.charCodeAt(0)));
  [...(o.chain ?? '')].forEach((c, i) => v.setUint8(NF.chain + i, c.charCodeAt(0)));
  if (o.verdict !== undefined) v.setUint32(NF.verdict, o.verdict, true);
  return v;
}

describe('--output-netfilter', () => {
  it('finds the walkers of a 6.x kernel: ipt_do_table(priv, skb, state), nft_do_chain(pkt, priv) with pkt->state', () => {
    const { vmlinux } = kernel('6.1');
    const f = netfilterFieldsFromBtf(vmlinux, () => undefined);
    expect(f.hook).toEqual({ offset: 0, size: 1 });
    expect(f.pf).toEqual({ offset: 1, size: 1 });
    expect(f.funcs).toEqual([
      {
        name: 'ipt_do_table',
        engine: NfEngine.iptables,
        skb: { arg: 1 },
        state: { arg: 2 },
        xtTable: { arg: 0, name: 64 },
      },
      {
        name: 'nft_do_chain',
        engine: NfEngine.nftables,
        skb: { arg: 0, member: 0 },
        state: { arg: 0, member: 8 },
        nftChain: { arg: 1, name: 88, table: 64, tableName: 248 },
      },
    ]);
    expect(f.missing).toEqual([
      "ip6t_do_table is not in the kernel's BTF (module ip6_tables not loaded): no x_tables events",
    ]);
  });

  it('reads the 5.10 prototypes: ipt_do_table(skb, state, table), an unsigned int hook, pkt->xt.state', () => {
    const f = netfilterFieldsFromBtf(kernel('5.10').vmlinux, () => undefined);
    expect(f.hook).toEqual({ offset: 0, size: 4 });
    expect(f.pf).toEqual({ offset: 4, size: 1 });
    expect(f.funcs[0]).toMatchObject({ skb: { arg: 0 }, state: { arg: 1 }, xtTable: { arg: 2, name: 64 } });
    expect(f.funcs[1]).toMatchObject({ state: { arg: 0, member: 32 } });
  });

  it("looks walkers up in their modules' BTF, and refuses a kernel with none loaded", () => {
    const b = new BtfBuilder();
    const u8 = b.addInt('u8', 1);
    b.addStruct('nf_hook_state', 8, [
      { name: 'hook', type: u8, bitOffset: 0 },
      { name: 'pf', type: u8, bitOffset: 8 },
    ]);
    const bare = Btf.parse(b.build());
    expect(() => netfilterFieldsFromBtf(bare, () => undefined)).toThrow(
      /none of ipt_do_table, ip6t_do_table, nft_do_chain is in the kernel/,
    );
    const mod = kernel('6.1').vmlinux;
    const asked: string[] = [];
    const f = netfilterFieldsFromBtf(bare, (m) => (asked.push(m), m === 'nf_tables' ? mod : undefined));
    expect(asked).toEqual(['ip_tables', 'ip6_tables', 'nf_tables']);
    expect(f.funcs.map((x) => [x.name, x.module])).toEqual([['nft_do_chain', 'nf_tables']]);
    expect(() => netfilterFieldsFromBtf(Btf.parse(new BtfBuilder().build()), () => mod)).toThrow(
      /no struct nf_hook_state/,
    );
  });

  it("reads 5.10's ipt_do_table(skb, state, table) without module BTF, from vmlinux's struct xt_table; nftables is left out", () => {
    const b = new BtfBuilder();
    const u8 = b.addInt('u8', 1);
    const u32 = b.addInt('unsigned int', 4);
    const char = b.addInt('char', 1, { char: true });
    b.addStruct('nf_hook_state', 48, [
      { name: 'hook', type: u32, bitOffset: 0 },
      { name: 'pf', type: u8, bitOffset: 32 },
    ]);
    b.addStruct('xt_table', 88, [{ name: 'name', type: b.addArray(char, u32, 32), bitOffset: 56 * 8 }]);
    const f = netfilterFieldsFromBtf(Btf.parse(b.build()), (m) =>
      m === 'ip6_tables' ? undefined : LOADED_WITHOUT_BTF,
    );
    expect(f.funcs).toEqual([
      {
        name: 'ipt_do_table',
        module: 'ip_tables',
        engine: NfEngine.iptables,
        skb: { arg: 0 },
        state: { arg: 1 },
        xtTable: { arg: 2, name: 56 },
      },
    ]);
    expect(f.missing[1]).toBe(
      "nf_tables is loaded but this kernel has no module BTF (5.11+) to read nft_do_chain's structs: no nftables events",
    );
  });

  it('prints a legacy iptables DROP in OUTPUT and an nftables verdict with its table and chain', () => {
    const ipt = netfilterAt(section({ engine: NfEngine.iptables, pf: 2, hook: 3, table: 'filter', verdict: 0 }), 0)!;
    expect(netfilterText(ipt)).toBe('nf=ipv4:OUTPUT iptables:filter verdict=DROP');
    expect(netfilterJson(ipt)).toEqual({
      engine: 'iptables',
      family: 'ipv4',
      hook: 'OUTPUT',
      table: 'filter',
      verdict: 'DROP',
      verdict_value: 0,
    });
    const nft = netfilterAt(
      section({ engine: NfEngine.nftables, pf: 10, hook: 1, table: 'pwrutest', chain: 'input', verdict: 1 }),
      0,
    )!;
    expect(netfilterText(nft)).toBe('nf=ipv6:INPUT nftables:pwrutest/input verdict=ACCEPT');
    expect(netfilterJson(nft)).toMatchObject({ chain: 'input', verdict: 'ACCEPT' });
  });

  it('names every verdict, with the queue number or errno above bit 16', () => {
    expect([0, 1, 2, 3, 4, 5].map(nfVerdictName)).toEqual(['DROP', 'ACCEPT', 'STOLEN', 'QUEUE', 'REPEAT', 'STOP']);
    expect(nfVerdictName((7 << 16) | 3)).toBe('QUEUE:7');
    expect(nfVerdictName(((-1 & 0xffff) << 16) >>> 0)).toBe('DROP:-1');
    expect(nfVerdictName(0x10002)).toBe('DROP:-1'); // 6.8+ nft_do_chain: NF_DROP_REASON(..., EPERM)
    expect(nfVerdictName(0x42)).toBe('0x42');
  });

  it("is absent for other functions' events, and has no verdict until the return filled it", () => {
    expect(netfilterAt(new DataView(new ArrayBuffer(NF.size)), 0)).toBeUndefined();
    const entry = netfilterAt(section({ engine: NfEngine.ip6tables, pf: 10, hook: 0, table: 'raw' }), 0)!;
    expect(entry.verdict).toBeUndefined();
    expect(netfilterText(entry)).toBe('nf=ipv6:PREROUTING ip6tables:raw');
  });

  it('needs the netfilter section in the layout for its return program', () => {
    const f = netfilterFieldsFromBtf(kernel('6.1').vmlinux, () => undefined);
    const layout = eventLayout({ ...NONE, netfilter: true });
    const arg = (i: number) => ({ offset: [112, 104, 96, 88, 72][i]!, size: 8 });
    const regs = { args: [0, 1, 2, 3, 4].map(arg), sp: { offset: 152, size: 8 }, ax: { offset: 80, size: 8 } };
    expect(() =>
      emitNetfilterEntry(new Emitter(), f.funcs[1]!, f, regs, {
        base: layout.netfilter,
        scratch: -16,
        keyAt: -48,
        size: layout.size,
        out: 'out',
      }),
    ).not.toThrow();
    expect(() => generateNetfilterReturn({ layout, regs, eventsMap: 'events', lostMap: 'lost' })).not.toThrow();
    expect(() =>
      generateNetfilterReturn({ layout: eventLayout(NONE), regs, eventsMap: 'events', lostMap: 'lost' }),
    ).toThrow(/netfilter section/);
  });
});
