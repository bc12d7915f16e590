import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { link } from 'bpf-asm-ts';
import { Btf, BtfBuilder } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { Emitter } from './emitter.js';
import { frameFor } from './program.js';
import { kernelLayoutFromBtf } from './btf-layout.js';
import { compileSkbExpr, compileXdpExpr, skbExprFragment } from './skb-expr.js';

const btf = Btf.parse(gunzipSync(readFileSync(new URL('../../../btf/test/data/vmlinux-6.1.btf.gz', import.meta.url))));

describe('compileSkbExpr', () => {
  it('compiles upstream CI expression skb->dev->ifindex == N', () => {
    const x = compileSkbExpr(btf, 'skb->dev->ifindex == 1');
    expect(x.op).toBe('==');
    expect(x.value).toBe(1n);
    expect(x.path.loads.map((l) => l.deref)).toEqual([true, false]);
  });

  it('treats = as == and byte-swaps constants for __be16 fields', () => {
    const x = compileSkbExpr(btf, 'skb->protocol = 0x0800');
    expect(x.op).toBe('==');
    expect(x.value).toBe(0x0008n);
  });

  it('takes enumerators by value, not by index (upstream bug)', () => {
    const x = compileSkbExpr(btf, 'skb->pkt_type == 3');
    expect(x.path.bitfieldSize).toBe(3);
    // A sparse enum: the second enumerator's value is 7 while its index is 1.
    const b = new BtfBuilder();
    const u32 = b.addInt('unsigned int', 4);
    const color = b.addEnum('color', 4, [
      { name: 'RED', value: 0 },
      { name: 'BLUE', value: 7 },
    ]);
    b.addStruct('sk_buff', 8, [
      { name: 'len', type: u32, bitOffset: 0 },
      { name: 'color', type: color, bitOffset: 32 },
    ]);
    const y = compileSkbExpr(Btf.parse(b.build()), 'skb->color == BLUE');
    expect(y.value).toBe(7n);
  });

  it('rejects anything but one comparison on skb', () => {
    expect(() => compileSkbExpr(btf, 'dev->ifindex == 1')).toThrow('--filter-skb-expr must start with skb');
    expect(() => compileSkbExpr(btf, 'skb->len > 1 && skb->len < 9')).toThrow(/expected one comparison/);
    expect(() => compileSkbExpr(btf, 'skb->nope == 1')).toThrow(/nope/);
    expect(() => compileSkbExpr(btf, 'skb->cb == 1')).toThrow(/not an integer, enum or pointer/);
    expect(() => compileSkbExpr(btf, 'skb->len == FOO')).toThrow(/neither a number nor an enumerator/);
  });

  it('generates a fragment that links, jumping to reject on a failed comparison', () => {
    const e = new Emitter('t');
    skbExprFragment(compileSkbExpr(btf, 'skb->len >= 0x90000000'), frameFor(kernelLayoutFromBtf(btf)))(e, 'reject');
    e.label('reject').ret(0);
    const p = link(e.insns);
    expect(p.instructions.some((i) => i.reference === undefined && i.isLoadImm64)).toBe(true);
  });
});

describe('compileXdpExpr (--filter-xdp-expr)', () => {
  it('is the same language on struct xdp_buff, starting at xdp', () => {
    const x = compileXdpExpr(btf, 'xdp->rxq->dev->ifindex == 9');
    expect(x.value).toBe(9n);
    expect(x.path.loads.map((l) => l.deref)).toEqual([true, true, false]);
    expect(compileXdpExpr(btf, 'xdp->rxq->queue_index != 0').op).toBe('!=');
  });

  it('names its own flag in errors', () => {
    expect(() => compileXdpExpr(btf, 'skb->len == 1')).toThrow('--filter-xdp-expr must start with xdp');
    expect(() => compileXdpExpr(btf, 'xdp->nope == 1')).toThrow(/^--filter-xdp-expr "xdp->nope == 1": .*nope/);
    expect(() => compileXdpExpr(btf, 'xdp.data == 1')).toThrow(/xdp is a pointer, use xdp->/);
  });
});
