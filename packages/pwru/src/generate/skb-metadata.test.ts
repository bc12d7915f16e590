import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { link } from 'bpf-asm-ts';
import { Btf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { eventLayout } from '../event.js';
import { kernelLayoutFromBtf } from './btf-layout.js';
import { generateProgram } from './program.js';
import { compileSkbMetadata, compileXdpMetadata, formatMetadataValue } from './skb-metadata.js';

const btf = Btf.parse(gunzipSync(readFileSync(new URL('../../../btf/test/data/vmlinux-6.1.btf.gz', import.meta.url))));

describe('--output-skb-metadata', () => {
  it('names each value after its last member and formats it by type', () => {
    const [hash, ifindex, dev, pkt, proto] = compileSkbMetadata(btf, [
      'skb->hash',
      'skb->dev->ifindex',
      'skb->dev',
      'skb->pkt_type',
    ]).concat(compileSkbMetadata(btf, ['skb->protocol']));
    expect(hash!.field).toBe('hash');
    expect(formatMetadataValue(hash!, { hi: 0, lo: 0xdeadbeef })).toBe('3735928559');
    expect(ifindex!.field).toBe('ifindex');
    expect(formatMetadataValue(ifindex!, { hi: 0xffffffff, lo: 0xfffffffe })).toBe('-2');
    expect(formatMetadataValue(dev!, { hi: 0xffff8bb7, lo: 0x1000 })).toBe('0xffff8bb700001000');
    expect(formatMetadataValue(pkt!, { hi: 0, lo: 3 })).toBe('0x3');
    // __be16 is not byte-swapped for output, as upstream: IPv4 shows 8.
    expect(formatMetadataValue(proto!, { hi: 0, lo: 8 })).toBe('8');
  });

  it('rejects more than 4, non-skb roots, bad characters and wide members with upstream words', () => {
    expect(() => compileSkbMetadata(btf, ['skb->len', 'skb->len', 'skb->len', 'skb->len', 'skb->len'])).toThrow(
      'too many skb metadata exprs, max 4',
    );
    expect(() => compileSkbMetadata(btf, ['dev->ifindex'])).toThrow(/must start with skb->/);
    expect(() => compileSkbMetadata(btf, ['skb->len + 1'])).toThrow(/only member accesses/);
    expect(() => compileSkbMetadata(btf, ['skb->cb'])).toThrow(/is too large, max 8 bytes/);
  });

  it('adds 8 bytes per value to the event and reads them in the program', () => {
    const metadata = compileSkbMetadata(btf, ['skb->hash', 'skb->dev->ifindex']);
    const layout = eventLayout({
      meta: false,
      cb: false,
      tuple: false,
      tunnel: false,
      stack: false,
      caller: false,
      metadata: 2,
    });
    expect(layout.metadata).toBe(80);
    expect(layout.size).toBe(96);
    const insns = generateProgram({
      layout,
      kernel: kernelLayoutFromBtf(btf),
      shape: { kind: 'tracepoint', skbArg: 0, site: 0 },
      filters: { mark: 0, mask: 0, netns: 0, ifindex: 0 },
      haveFuncIp: false,
      metadata,
    });
    expect(insns.filter((i) => i.comment?.startsWith('event: --output-skb-metadata')).length).toBeGreaterThan(4);
    expect(() => link(insns)).not.toThrow();
  });
});

describe('--output-xdp-metadata', () => {
  it('reads members of struct xdp_buff, named by their last member', () => {
    const [q, ifindex, data] = compileXdpMetadata(btf, [
      'xdp->rxq->queue_index',
      'xdp->rxq->dev->ifindex',
      'xdp->data',
    ]);
    expect([q!.field, ifindex!.field, data!.field]).toEqual(['queue_index', 'ifindex', 'data']);
    expect(formatMetadataValue(q!, { hi: 0, lo: 0 })).toBe('0');
    expect(formatMetadataValue(data!, { hi: 0xffff8bb7, lo: 0x10 })).toBe('0xffff8bb700000010');
  });

  it('rejects skb roots and more than 4 with xdp in the message', () => {
    expect(() => compileXdpMetadata(btf, ['skb->len'])).toThrow('xdp metadata expr "skb->len" must start with xdp->');
    expect(() => compileXdpMetadata(btf, Array(5).fill('xdp->data'))).toThrow('too many xdp metadata exprs, max 4');
  });
});
