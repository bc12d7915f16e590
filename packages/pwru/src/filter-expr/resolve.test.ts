import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Btf, BtfBuilder, memberPath } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { compileFilterExpr, type Cond, XDP_EXPR_ROOT } from './index.js';

const btf = Btf.parse(gunzipSync(readFileSync(new URL('../../../btf/test/data/vmlinux-6.1.btf.gz', import.meta.url))));
const cond = (text: string): Cond => compileFilterExpr(btf, text).cond;
const cmp = (text: string): Extract<Cond, { kind: 'cmp' }> => {
  const c = cond(text);
  if (c.kind !== 'cmp') throw new Error(`not one comparison: ${c.kind}`);
  return c;
};
const off = (path: string, struct = 'sk_buff'): number =>
  memberPath(btf, btf.typeByName(struct, 'struct'), path).loads.at(-1)!.offset;

describe('upstream one-comparison expressions keep their meaning', () => {
  it('skb->dev->ifindex == N: one hop through dev, then the int', () => {
    const c = cmp('skb->dev->ifindex == 1');
    expect(c).toMatchObject({
      op: '==',
      value: 1n,
      signed: true,
      place: { hops: [{ offset: off('dev') }], offset: off('ifindex', 'net_device'), size: 4 },
    });
  });

  it('= is ==, and __be16 constants are byte-swapped', () => {
    expect(cmp('skb->protocol = 0x0800')).toMatchObject({ op: '==', value: 0x0008n, signed: false });
  });

  it('bitfields load their unit and extract', () => {
    const c = cmp('skb->pkt_type == 3');
    expect(c.place.bitSize).toBe(3);
  });

  it('enumerators by value, not by index (upstream bug)', () => {
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
    expect(compileFilterExpr(Btf.parse(b.build()), 'skb->color == BLUE').cond).toMatchObject({ value: 7n });
  });

  it('a NULL pointer on the way fails even != (upstream rejects such packets)', () => {
    // The IR marks hops; the reference evaluator and the programs make NULL false (tested there).
    expect(cmp('skb->dev->ifindex != 1').place.hops).toHaveLength(1);
  });

  it('xdp expressions start at struct xdp_buff', () => {
    const c = compileFilterExpr(btf, 'xdp->rxq->dev->ifindex == 9', XDP_EXPR_ROOT).cond;
    expect(c).toMatchObject({ kind: 'cmp', value: 9n });
    expect((c as Extract<Cond, { kind: 'cmp' }>).place.hops).toHaveLength(2);
  });
});

describe('the boolean language', () => {
  it('masks: skb->mark & 0xff == 0x1 compares the masked value, unsigned', () => {
    expect(cmp('skb->mark & 0xff == 0x1')).toMatchObject({ mask: 0xffn, value: 1n, signed: false });
    expect(cmp('skb->protocol & 0xff00 == 0x0800')).toMatchObject({ mask: 0x00ffn, value: 0x0008n });
  });

  it('a bare member is != 0, ! negates, && and || nest', () => {
    expect(cond('skb->mark')).toMatchObject({ kind: 'cmp', op: '!=', value: 0n });
    expect(cond('!skb->_nfct || skb->len > 2 && skb->mark')).toMatchObject({
      kind: 'or',
      left: { kind: 'not' },
      right: { kind: 'and' },
    });
  });

  it('char arrays compare with strings, NUL included when the array has room', () => {
    const c = cond('skb->dev->name == "eth0"');
    expect(c).toMatchObject({ kind: 'bytes', op: '==', place: { offset: off('name', 'net_device'), size: 5 } });
    expect([...(c as { bytes: Uint8Array }).bytes]).toEqual([101, 116, 104, 48, 0]);
    const full = cond('skb->dev->name != "0123456789abcdef"') as { bytes: Uint8Array };
    expect(full.bytes.length).toBe(16);
  });

  it('casts a member to another struct, masking low bits on the way (skb->_nfct to nf_conn)', () => {
    const c = cmp('((struct nf_conn *)(skb->_nfct & ~7))->status & IPS_ASSURED');
    expect(c.place.hops).toEqual([{ offset: off('_nfct'), mask: 0xfffffffffffffff8n }]);
    expect(c.place.offset).toBe(off('status', 'nf_conn'));
    expect(c).toMatchObject({ mask: 4n, op: '!=', value: 0n });
    expect(cmp('(skb->_nfct & 7) == IP_CT_ESTABLISHED_REPLY')).toMatchObject({ mask: 7n, value: 3n });
  });

  it('reaches members through anonymous unions and nested structs', () => {
    const c = cmp('skb->dev->nd_net.net->ns.inum == 4026531840');
    expect(c.place.hops.map((h) => h.offset)).toEqual([off('dev'), off('nd_net.net', 'net_device')]);
    expect(c.place.offset).toBe(off('ns.inum', 'net'));
    // sk_buff's dev sits in an anonymous union inside an anonymous struct.
    expect(btf.typeByName('sk_buff', 'struct').members.some((m) => m.name === 'dev')).toBe(false);
  });

  it('constants on the left flip the operator; negative constants fit signed fields', () => {
    expect(cmp('100 < skb->len')).toMatchObject({ op: '>', value: 100n });
    expect(cmp('skb->dev->ifindex > -1')).toMatchObject({ value: -1n, signed: true });
    expect(cmp('skb->mark == -1')).toMatchObject({ value: 0xffffffffn, signed: false });
  });
});

describe('precise errors', () => {
  it.each([
    ['skb->mak == 1', /^--filter-skb-expr 'skb->mak == 1': column 6: no member 'mak' in struct sk_buff; closest: mark/],
    ['skb->dev->ifindx == 1', /column 11: no member 'ifindx' in struct net_device; closest: ifindex/],
    ['skb->dev.ifindex == 1', /column 10: skb->dev is a pointer: write '->ifindex'/],
    ['skb->len->x == 1', /column 11: skb->len is unsigned int, not a pointer to a struct/],
    ['skb->len.x == 1', /column 10: skb->len is unsigned int, it has no members/],
    ['skb.len == 1', /column 5: skb is a pointer, use skb->/],
    ['dev->ifindex == 1', /column 1: unknown name 'dev': an expression starts with skb/],
    [
      'skb->cb == 1',
      /column 1: skb->cb is char\[48\]: compare it with a string|column \d+: skb->cb is a char array: compare it with a string/,
    ],
    ['skb->len == FOO', /column 13: FOO is neither a number nor an enumerator/],
    ['skb->len == IP_CT_NEWW', /closest: IP_CT_NEW/],
    ['skb->dev->name == 1', /column 19: skb->dev->name is a char array: compare it with a string, like "eth0"/],
    ['skb->dev->name < "a"', /a char array compares with == or != only/],
    ['skb->len == "a"', /column 13: skb->len is unsigned int: compare it with a number, not a string/],
    ['skb->mark == 0x100000000', /0x100000000 does not fit skb->mark \(32-bit unsigned\)/],
    ['skb->mark & skb->len', /column 13: a mask is a constant \(a number or an enumerator\)/],
    ['((struct nf_connn *)skb->_nfct)->mark', /kernel BTF has no struct nf_connn \(closest: nf_conn/],
    ['((struct nf_conn *)skb->len)->mark', /skb->len is unsigned int: only a pointer or a 64-bit integer can be cast/],
    [
      'skb->_nfct->x',
      /column 13: skb->_nfct is long unsigned int, not a pointer to a struct: cast it, '\(\(struct name \*\)skb->_nfct\)->x'/,
    ],
    ['1 == 2', /compare a member with a constant, not two constants/],
    ['skb->len == skb->mark', /one side of a comparison must be a constant/],
    ['skb', /skb is a pointer to a struct: compare one of its members/],
    ['skb->dev->name == "0123456789abcdefg"', /is 17 bytes; skb->dev->name holds 16/],
  ])('%s', (text, message) => {
    expect(() => compileFilterExpr(btf, text)).toThrow(message);
  });

  it('bounds the number of comparisons', () => {
    expect(() => compileFilterExpr(btf, Array.from({ length: 65 }, () => 'skb->len == 1').join(' || '))).toThrow(
      /65 comparisons; at most 64/,
    );
  });

  it('names its own flag for xdp', () => {
    expect(() => compileFilterExpr(btf, 'skb->len == 1', XDP_EXPR_ROOT)).toThrow(
      /^--filter-xdp-expr 'skb->len == 1': column 1: unknown name 'skb'/,
    );
  });
});
