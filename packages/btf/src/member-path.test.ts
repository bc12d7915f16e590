import { describe, expect, it } from 'vitest';
import { Btf } from './btf.js';
import { BtfBuilder } from './builder.js';
import { BtfNotFoundError } from './errors.js';
import { memberPath } from './member-path.js';
import { hasHostBtf, hostBtf, vmlinux61 } from '../test/fixtures.js';

/** struct outer { int x; struct { u8 kind:3, up:1; }; struct inner *next; struct inner in; } */
function sample(): { btf: Btf; outer: number; inner: number } {
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, { signed: true });
  const u8 = b.addTypedef('u8', b.addInt('unsigned char', 1));
  const innerFwd = b.nextTypeId + 4; // anon, pointer, outer and back pointer come first
  const anon = b.addStruct('', 1, [
    { name: 'kind', type: u8, bitOffset: 0, bitfieldSize: 3 },
    { name: 'up', type: u8, bitOffset: 3, bitfieldSize: 1 },
  ]);
  const innerPtr = b.addPtr(innerFwd);
  const outer = b.addStruct('outer', 32, [
    { name: 'x', type: int, bitOffset: 0 },
    { name: '', type: anon, bitOffset: 32 },
    { name: 'next', type: innerPtr, bitOffset: 64 },
    { name: 'in', type: innerFwd, bitOffset: 128 },
  ]);
  const inner = b.addStruct('inner', 16, [
    { name: 'id', type: int, bitOffset: 32 },
    { name: 'back', type: b.addPtr(outer), bitOffset: 64 },
  ]);
  expect(inner).toBe(innerFwd);
  return { btf: Btf.parse(b.build()), outer, inner };
}

describe('memberPath', () => {
  it('gives offset, size and signedness of a plain member', () => {
    const { btf, outer } = sample();
    const p = memberPath(btf, outer, 'x');
    expect(p.loads).toEqual([{ offset: 0, size: 4, deref: false }]);
    expect(p).toMatchObject({ size: 4, signed: true, bitfieldSize: 0 });
  });

  it('searches anonymous members and gives bitfield position and width', () => {
    const { btf, outer } = sample();
    const p = memberPath(btf, outer, 'up');
    expect(p.steps[0]).toMatchObject({ name: 'up', offset: 4, bitOffset: 35, bitfieldSize: 1, size: 1, signed: false });
    expect(p.loads).toEqual([{ offset: 4, size: 1, deref: false, bitOffset: 3, bitSize: 1 }]);
  });

  it("adds '.' offsets within an object and starts over after '->'", () => {
    const { btf, outer, inner } = sample();
    const dot = memberPath(btf, outer, 'in.id');
    expect(dot.loads).toEqual([{ offset: 20, size: 4, deref: false }]);
    const arrow = memberPath(btf, outer, 'next->back->in.id');
    expect(arrow.steps.map((s) => [s.name, s.container, s.offset, s.deref])).toEqual([
      ['next', outer, 8, true],
      ['back', inner, 8, true],
      ['in', outer, 16, false],
      ['id', inner, 20, false],
    ]);
    expect(arrow.loads).toEqual([
      { offset: 8, size: 8, deref: true },
      { offset: 8, size: 8, deref: true },
      { offset: 20, size: 4, deref: false },
    ]);
  });

  it('names the missing member and the type it was looked up in', () => {
    const { btf, outer, inner } = sample();
    expect(() => memberPath(btf, outer, 'next->nope')).toThrow(
      new BtfNotFoundError(`no member 'nope' in struct inner (type id ${inner})`),
    );
    expect(() => memberPath(btf, outer, 'next.id')).toThrow(/'next' in next.id is a pointer: write 'next->id'/);
    expect(() => memberPath(btf, outer, 'x->y')).toThrow(/'x' in x->y is int int, not a pointer/);
    expect(() => memberPath(btf, outer, 'x..y')).toThrow(/bad member path/);
  });
});

describe.skipIf(!hasHostBtf)('memberPath on this machine’s struct sk_buff', () => {
  it("resolves pwru's netns path dev->nd_net.net->ns.inum as three loads", () => {
    const btf = hostBtf();
    const skb = btf.typeByName('sk_buff', 'struct');
    const dev = btf.typeByName('net_device', 'struct');
    const p = memberPath(btf, skb, 'dev->nd_net.net->ns.inum');
    expect(p.loads.map((l) => [l.size, l.deref])).toEqual([
      [8, true],
      [8, true],
      [4, false],
    ]);
    expect(p.steps[1]!.container).toBe(dev.id);
    expect(p.steps[0]!.offset).toBe(16);
  });
});

describe('memberPath on Debian 6.1 struct sk_buff', () => {
  const btf = vmlinux61();
  const skb = btf.typeByName('sk_buff', 'struct');

  it('reads head as an 8-byte pointer at a byte offset', () => {
    expect(memberPath(btf, skb, 'head').loads).toEqual([{ offset: 200, size: 8, deref: false }]);
  });

  it('reads the pkt_type bitfield from the byte that holds it', () => {
    const p = memberPath(btf, skb, 'pkt_type');
    expect(p.bitfieldSize).toBe(3);
    expect(p.loads).toEqual([{ offset: 128, size: 1, deref: false, bitOffset: 0, bitSize: 3 }]);
  });

  it('follows dev->nd_net.net->ns.inum', () => {
    const p = memberPath(btf, skb, 'dev->nd_net.net->ns.inum');
    expect(p.loads.length).toBe(3);
    expect(p).toMatchObject({ size: 4, signed: false });
  });
});
