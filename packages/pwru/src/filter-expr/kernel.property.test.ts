/**
 * The generated eBPF against the reference evaluator, in the kernel: random boolean expressions
 * over a synthetic BTF (bitfields, signed and `__be16` fields, an anonymous union, a char array,
 * an enum, pointers, a cast of an `_nfct`-like word with its low bits masked off) are compiled
 * into a socket filter that follows pointers in a memory image held in an array map, and
 * `BPF_PROG_TEST_RUN` must return exactly what {@link evaluateCond} computes on the same image.
 * Needs root and BPF; skips with the reason otherwise.
 */
import {
  Add,
  call,
  encode,
  Helper,
  JEq,
  link,
  LoadMapPtr,
  Mov,
  R0,
  R1,
  R10,
  R2,
  R7,
  StoreImm,
  StoreMem,
} from 'bpf-asm-ts';
import { Btf, BtfBuilder } from 'btf-parser';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { PROG_TYPE, TestBpf } from '../../../../tools/testing/bpf-syscall.mjs';
import { Emitter } from '../generate/emitter.js';
import { compileFilterExpr, evaluateCond, filterExprFragment } from './index.js';

const b = new BtfBuilder();
const u8 = b.addInt('unsigned char', 1);
const u16 = b.addInt('short unsigned int', 2);
const u32 = b.addInt('unsigned int', 4);
const u64 = b.addInt('long unsigned int', 8);
const s8 = b.addInt('signed char', 1, { signed: true });
const s16 = b.addInt('short int', 2, { signed: true });
const s32 = b.addInt('int', 4, { signed: true });
const s64 = b.addInt('long long int', 8, { signed: true });
const char = b.addInt('char', 1, { char: true });
const be16 = b.addTypedef('__be16', u16);
const color = b.addEnum('color', 4, [
  { name: 'RED', value: 0 },
  { name: 'GREEN', value: 0x7f },
  { name: 'BLUE', value: 0xff },
]);
const name16 = b.addArray(char, u32, 16);
const cb8 = b.addArray(char, u32, 8);
const netdev = b.addStruct('net_device', 32, [
  { name: 'name', type: name16, bitOffset: 0 },
  { name: 'ifindex', type: s32, bitOffset: 128 },
  { name: 'flags', type: u32, bitOffset: 160 },
  { name: 'color', type: color, bitOffset: 192 },
]);
const netdevPtr = b.addPtr(netdev);
b.addStruct('nf_conn', 24, [
  { name: 'mark', type: u32, bitOffset: 0 },
  { name: 'status', type: u64, bitOffset: 64 },
  { name: 'zone', type: s16, bitOffset: 128 },
  { name: 'proto', type: u8, bitOffset: 144 },
]);
const devUnion = b.addUnion('', 8, [
  { name: 'dev', type: netdevPtr, bitOffset: 0 },
  { name: 'dev_scratch', type: u64, bitOffset: 0 },
]);
b.addStruct('sk_buff', 64, [
  { name: 'len', type: u32, bitOffset: 0 },
  { name: 'mark', type: u32, bitOffset: 32 },
  { name: 'protocol', type: be16, bitOffset: 64 },
  { name: 'pkt_type', type: u8, bitOffset: 80, bitfieldSize: 3 },
  { name: 'flag', type: u8, bitOffset: 83, bitfieldSize: 1 },
  { name: 'queue', type: u16, bitOffset: 84, bitfieldSize: 10 },
  { name: 'prio', type: s32, bitOffset: 96 },
  { name: '', type: devUnion, bitOffset: 128 },
  { name: '_nfct', type: u64, bitOffset: 192 },
  { name: 'hash64', type: u64, bitOffset: 256 },
  { name: 'tiny', type: s8, bitOffset: 320 },
  { name: 'big', type: s64, bitOffset: 384 },
  { name: 'cb', type: cb8, bitOffset: 448 },
]);
const btf = Btf.parse(b.build());

/** The image: sk_buff at 0, net_device at 64, nf_conn at 96; pointer slots at 16 (dev) and 24 (_nfct). */
const IMAGE = 128;
const DEV_AT = 64;
const CT_AT = 96;
/** Where the reference evaluator pretends the image is. */
const BASE = 0x1000_0000n;

interface Image {
  bytes: Uint8Array;
  /** dev: null or the net_device. */
  dev: boolean;
  /** _nfct: undefined (a bare info value, NULL after masking) or the nf_conn plus the info bits. */
  ct?: number;
  info: number;
}

const BYTE = fc.constantFrom(0x00, 0x01, 0x07, 0x7f, 0x80, 0xff);
const NAMES = ['eth0', 'lo', 'veth-a', '0123456789abcde'];

const imageArb: fc.Arbitrary<Image> = fc
  .record({
    raw: fc
      .uint8Array({ minLength: IMAGE, maxLength: IMAGE })
      .chain((r) => fc.array(BYTE, { minLength: r.length, maxLength: r.length })),
    dev: fc.boolean(),
    ct: fc.option(fc.constant(CT_AT), { nil: undefined }),
    info: fc.integer({ min: 0, max: 7 }),
    name: fc.option(fc.constantFrom(...NAMES), { nil: undefined }),
    cb: fc.constantFrom('ab', 'abc', 'xy'),
  })
  .map(({ raw, dev, ct, info, name, cb }) => {
    const bytes = Uint8Array.from(raw);
    if (name !== undefined) {
      bytes.fill(0, DEV_AT, DEV_AT + 16);
      bytes.set(new TextEncoder().encode(name), DEV_AT);
    }
    bytes.fill(0, 56, 64);
    bytes.set(new TextEncoder().encode(cb), 56);
    return { bytes, dev, ...(ct !== undefined ? { ct } : {}), info };
  });

/** The image as the reference sees it: pointer slots hold BASE-relative addresses. */
function referenceBytes(img: Image): Uint8Array {
  const out = Uint8Array.from(img.bytes);
  const v = new DataView(out.buffer);
  v.setBigUint64(16, img.dev ? BASE + BigInt(DEV_AT) : 0n, true);
  v.setBigUint64(24, img.ct !== undefined ? BASE + BigInt(img.ct + img.info) : BigInt(img.info), true);
  return out;
}

function reader(bytes: Uint8Array): (address: bigint, size: number) => Uint8Array {
  return (address, size) => {
    const out = new Uint8Array(size);
    const at = Number(address - BASE);
    if (address >= BASE && at + size <= bytes.length) out.set(bytes.subarray(at, at + size));
    return out;
  };
}

// Leaves: a member, its width in bits and signedness, so constants are drawn to fit.
const SCALARS: Array<[string, number, boolean]> = [
  ['skb->len', 32, false],
  ['skb->mark', 32, false],
  ['skb->protocol', 16, false],
  ['skb->pkt_type', 3, false],
  ['skb->flag', 1, false],
  ['skb->queue', 10, false],
  ['skb->prio', 32, true],
  ['skb->hash64', 64, false],
  ['skb->tiny', 8, true],
  ['skb->big', 64, true],
  ['skb->dev->ifindex', 32, true],
  ['skb->dev->flags', 32, false],
  ['((struct nf_conn *)(skb->_nfct & ~7))->mark', 32, false],
  ['((struct nf_conn *)(skb->_nfct & ~7))->status', 64, false],
  ['((struct nf_conn *)(skb->_nfct & ~7))->zone', 16, true],
  ['((struct nf_conn *)(skb->_nfct & ~0x7UL))->proto', 8, false],
  ['((struct net_device *)skb->dev_scratch)->ifindex', 32, true],
  ['(skb->_nfct & 7)', 64, false],
];

function constant(bits: number, signed: boolean): fc.Arbitrary<bigint> {
  const bytes = Math.max(1, Math.ceil(bits / 8));
  const pattern = BYTE.map((x) => {
    let v = 0n;
    for (let i = 0; i < bytes; i++) v = (v << 8n) | BigInt(x);
    return v & ((1n << BigInt(bits)) - 1n);
  });
  const small = fc.bigInt({ min: 0n, max: bits >= 3 ? 7n : 1n });
  const arbs = [pattern, small];
  if (signed) arbs.push(fc.constantFrom(-1n, -128n, -2n).filter((v) => v >= -(1n << BigInt(bits - 1))));
  return fc.oneof(...arbs);
}

const hex = (v: bigint): string => (v < 0n ? `${v}` : `0x${v.toString(16)}`);
const OPS = fc.constantFrom('==', '!=', '<', '<=', '>', '>=', '=');

const leaf: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...SCALARS).chain(([m, bits, signed]) =>
    fc.oneof(
      fc.tuple(OPS, constant(bits, signed)).map(([op, c]) => `${m} ${op} ${hex(c)}`),
      fc.tuple(OPS, constant(bits, signed)).map(([op, c]) => `${hex(c)} ${op} ${m}`),
      fc
        .tuple(constant(bits, false), OPS, constant(bits, false))
        .map(([mask, op, c]) => `${m} & ${hex(mask)} ${op} ${hex(c & mask)}`),
      fc.constant(m),
    ),
  ),
  fc
    .tuple(fc.constantFrom('==', '!='), fc.constantFrom(...NAMES, 'eth1', ''))
    .map(([op, s]) => `skb->dev->name ${op} ${JSON.stringify(s)}`),
  fc
    .tuple(fc.constantFrom('==', '!='), fc.constantFrom('ab', 'abc', 'x', 'abcdefgh'))
    .map(([op, s]) => `skb->cb ${op} ${JSON.stringify(s)}`),
  fc.tuple(OPS, fc.constantFrom('RED', 'GREEN', 'BLUE')).map(([op, c]) => `skb->dev->color ${op} ${c}`),
  fc.constantFrom('skb->dev', '!skb->_nfct', 'skb->dev == 0', 'skb->dev != 0'),
);

const { expr } = fc.letrec<{ expr: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.tuple(tie('expr'), fc.constantFrom('&&', '||'), tie('expr')).map(([a, op, c]) => `(${a}) ${op} (${c})`),
    tie('expr').map((a) => `!(${a})`),
  ),
}));

const bpf = TestBpf.open();
const reason = typeof bpf === 'string' ? bpf : undefined;
if (reason) console.log(`skipping in-kernel filter-expression tests: ${reason}`);

describe.skipIf(reason !== undefined)('filter expressions in the kernel agree with the reference evaluator', () => {
  const k = bpf as TestBpf;
  const mapFd = reason ? -1 : k.createArrayMap(IMAGE);
  afterAll(() => {
    if (mapFd >= 0) k.close(mapFd);
  });

  /** A socket filter: r7 = the image, pointer slots patched to real addresses, then the expression. */
  function load(text: string, img: Image): number {
    const e = new Emitter('t');
    e.emit(
      StoreImm(R10, -8, 0, 'u32'),
      LoadMapPtr(R1, 'image'),
      Mov.reg(R2, R10),
      Add.imm(R2, -8),
      call(Helper.map_lookup_elem),
    );
    e.emit(JEq.imm(R0, 0, 'reject'), Mov.reg(R7, R0));
    if (img.dev) e.emit(Mov.reg(R1, R7), Add.imm(R1, DEV_AT), StoreMem(R7, 16, R1, 'u64'));
    if (img.ct !== undefined) e.emit(Mov.reg(R1, R7), Add.imm(R1, img.ct + img.info), StoreMem(R7, 24, R1, 'u64'));
    filterExprFragment(compileFilterExpr(btf, text), { scratch: -32 })(e, 'reject');
    e.ret(1);
    e.label('reject').ret(0);
    return k.load(PROG_TYPE.socket_filter, encode(link(e.insns).resolve(() => mapFd)));
  }

  function run(text: string, img: Image): { kernel: boolean; reference: boolean } {
    const cond = compileFilterExpr(btf, text).cond;
    const image = Uint8Array.from(img.bytes);
    const v = new DataView(image.buffer);
    v.setBigUint64(16, 0n, true);
    v.setBigUint64(24, img.ct !== undefined ? 0n : BigInt(img.info), true);
    k.updateArray(mapFd, 0, image);
    const fd = load(text, img);
    try {
      const kernel = k.testRun(fd, new Uint8Array(64)).retval === 1;
      return { kernel, reference: evaluateCond(cond, reader(referenceBytes(img)), BASE) };
    } finally {
      k.close(fd);
    }
  }

  it('on hand-picked cases', () => {
    const img: Image = { bytes: new Uint8Array(IMAGE), dev: true, ct: CT_AT, info: 3 };
    const v = new DataView(img.bytes.buffer);
    v.setUint32(0, 1500, true);
    v.setUint32(4, 0x1234_5601, true);
    v.setUint16(8, 0x0008, true); // 0x0800 in network order
    img.bytes[10] = 0b0101_0_011; // pkt_type 3, flag 0, queue's low bits
    v.setInt32(12, -5, true);
    img.bytes.set(new TextEncoder().encode('eth0'), DEV_AT);
    v.setInt32(DEV_AT + 16, 7, true);
    v.setUint32(CT_AT, 42, true);
    v.setBigUint64(CT_AT + 8, 0x1cn, true);
    const cases: Array<[string, boolean]> = [
      ['skb->len == 1500', true],
      ['skb->protocol == 0x0800', true],
      ['skb->mark & 0xff == 0x1', true],
      ['skb->mark & 0xff == 0x2', false],
      ['skb->pkt_type == 3 && skb->flag == 0', true],
      ['skb->prio < 0 && skb->prio == -5', true],
      ['skb->dev->name == "eth0" && skb->dev->ifindex == 7', true],
      ['skb->dev->name == "eth"', false],
      ['skb->dev->name != "eth0" || !(skb->mark & 0xff == 1)', false],
      ['((struct nf_conn *)(skb->_nfct & ~7))->mark == 42 && (skb->_nfct & 7) == 3', true],
      ['((struct nf_conn *)(skb->_nfct & ~7))->status & 0x8', true],
      ['((struct nf_conn *)(skb->_nfct & ~7))->status & 0x2', false],
    ];
    for (const [text, want] of cases) expect(run(text, img), text).toEqual({ kernel: want, reference: want });
    const noDev = { ...img, dev: false };
    // A NULL pointer makes its comparison false, whatever the operator; ! then makes it true.
    expect(run('skb->dev->ifindex != 1', noDev)).toEqual({ kernel: false, reference: false });
    expect(run('!(skb->dev->ifindex == 1)', noDev)).toEqual({ kernel: true, reference: true });
    const { ct: _ct, ...noCt } = img;
    expect(run('((struct nf_conn *)(skb->_nfct & ~7))->mark != 1', noCt)).toEqual({ kernel: false, reference: false });
  });

  it('on random expressions and memory', () => {
    fc.assert(
      fc.property(expr, imageArb, (text, img) => {
        const r = run(text, img);
        expect(r.kernel, text).toBe(r.reference);
      }),
      { numRuns: 300 },
    );
  });
});
