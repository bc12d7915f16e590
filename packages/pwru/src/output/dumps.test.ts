import { describe, expect, it } from 'vitest';
import { DUMP_HEADER, DumpKind } from '../generate/skb-dump.js';
import { CURL_DROP } from './fixtures.js';
import { DumpJoiner, LOST_DUMP, MAX_PENDING_DUMPS } from './dumps.js';

/** One dump record as the BPF side writes it. */
function record(cpu: number, ts: number, kind: DumpKind, text: string, full = Buffer.byteLength(text)): Uint8Array {
  const body = Buffer.from(text, 'utf8');
  const bytes = new Uint8Array(DUMP_HEADER.size + body.length);
  const v = new DataView(bytes.buffer);
  v.setUint32(DUMP_HEADER.ts, ts % 4294967296, true);
  v.setUint32(DUMP_HEADER.ts + 4, Math.floor(ts / 4294967296), true);
  v.setUint32(DUMP_HEADER.cpu, cpu, true);
  v.setUint32(DUMP_HEADER.kind, kind, true);
  v.setUint32(DUMP_HEADER.full, full, true);
  bytes.set(body, DUMP_HEADER.size);
  return bytes;
}

/** A fake dump ring: records queued by the test, drained on demand. */
function ring() {
  const queue: Uint8Array[] = [];
  let drains = 0;
  return {
    push: (r: Uint8Array) => queue.push(r),
    get drains() {
      return drains;
    },
    drain: (each: (v: DataView, off: number, len: number) => void) => {
      drains++;
      for (const r of queue.splice(0)) each(new DataView(r.buffer), 0, r.length);
    },
  };
}

const SKB = '(struct sk_buff){\n .len = (unsigned int)60,\n}';
const SHINFO = '(struct skb_shared_info){\n .nr_frags = (__u8)0,\n}';

describe('DumpJoiner', () => {
  it('hands each event the dumps stamped with its CPU and ktime, trailing newline removed', () => {
    const r = ring();
    const j = new DumpJoiner(r.drain, { skb: true, sharedInfo: true });
    const other = { ...CURL_DROP, ts: CURL_DROP.ts + 1 };
    r.push(record(CURL_DROP.cpu, other.ts, DumpKind.Skb, 'other'));
    r.push(record(CURL_DROP.cpu, CURL_DROP.ts, DumpKind.Skb, SKB + '\n'));
    r.push(record(CURL_DROP.cpu, CURL_DROP.ts, DumpKind.SharedInfo, SHINFO));
    r.push(record(CURL_DROP.cpu, other.ts, DumpKind.SharedInfo, 'other shinfo'));
    expect(j.take(CURL_DROP)).toEqual({ skb: SKB, sharedInfo: SHINFO });
    // The other event's dumps were read in the same drain and kept for it.
    expect(j.take(other)).toEqual({ skb: 'other', sharedInfo: 'other shinfo' });
    expect(r.drains).toBe(1);
    expect(j.lost).toBe(0);
  });

  it('does not take a dump of the same ktime on another CPU', () => {
    const r = ring();
    const j = new DumpJoiner(r.drain, { skb: true, sharedInfo: false });
    r.push(record(CURL_DROP.cpu + 1, CURL_DROP.ts, DumpKind.Skb, SKB));
    expect(j.take(CURL_DROP)).toEqual({ skb: LOST_DUMP });
    expect(j.lost).toBe(1);
  });

  it('notes a dump cut short by the buffer, with the size it needed', () => {
    const r = ring();
    const j = new DumpJoiner(r.drain, { skb: true, sharedInfo: false });
    r.push(record(CURL_DROP.cpu, CURL_DROP.ts, DumpKind.Skb, '(struct sk_buff){\n .le', 5000));
    expect(j.take(CURL_DROP).skb).toBe(
      '(struct sk_buff){\n .le\n... (truncated: 22 of 5000 bytes; raise --set-percpu-buf)',
    );
  });

  it('attaches the dumps to the event for the printers and the API', () => {
    const r = ring();
    const j = new DumpJoiner(r.drain, { skb: true, sharedInfo: false });
    r.push(record(CURL_DROP.cpu, CURL_DROP.ts, DumpKind.Skb, SKB));
    const ev = j.attach({ ...CURL_DROP });
    expect(ev.skbDump).toBe(SKB);
    expect(ev.shinfoDump).toBeUndefined();
  });

  it('keeps a bounded number of dumps whose events have not come', () => {
    const r = ring();
    const j = new DumpJoiner(r.drain, { skb: true, sharedInfo: false });
    for (let i = 0; i <= MAX_PENDING_DUMPS; i++) r.push(record(0, 1000 + i, DumpKind.Skb, `dump ${i}`));
    // The oldest was dropped to make room; the newest is there.
    expect(j.take({ ...CURL_DROP, cpu: 0, ts: 1000 + MAX_PENDING_DUMPS }).skb).toBe(`dump ${MAX_PENDING_DUMPS}`);
    expect(j.take({ ...CURL_DROP, cpu: 0, ts: 1000 }).skb).toBe(LOST_DUMP);
  });
});
