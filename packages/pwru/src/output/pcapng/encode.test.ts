import { describe, expect, it } from 'vitest';
import { EventKind, type EventTuple, type PwruEvent } from '../../event.js';
import { CURL_DROP, DEFAULT_OUTPUT, fakeContext } from '../fixtures.js';
import { JsonPrinter } from '../json.js';
import type { OutputOptions } from '../options.js';
import { ReturnFormats } from '../retval.js';
import { ByteOut, putHex64, putUint } from './bytes.js';
import { EventOptionEncoder, unknownEventFields } from './encode.js';
import { PcapngEventWriter } from './events.js';
import { LINKTYPE } from './format.js';
import { PcapngWriter } from './writer.js';

/** A ByteSink keeping everything written. */
function sink(): { write(b: Uint8Array): void; bytes(): Buffer } {
  const parts: Uint8Array[] = [];
  return { write: (b) => parts.push(b), bytes: () => Buffer.concat(parts) };
}

/** Events varied in every field the byte path writes, and some it leaves to the string path. */
function varied(count: number): PwruEvent[] {
  let seed = 7;
  const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) >>> 8) % n;
  const out: PwruEvent[] = [];
  for (let i = 0; i < count; i++) {
    const v6 = rnd(5) === 0;
    const tuple: EventTuple | undefined =
      rnd(9) === 0
        ? undefined
        : rnd(9) === 0
          ? { saddr: '', daddr: '', sport: 0, dport: 0, l3: 0, l4: 0, flags: 0 }
          : {
              saddr: v6 ? `fd00::${rnd(999)}` : `10.0.0.${rnd(256)}`,
              daddr: v6 ? '2001:db8::1' : `1.0.0.${rnd(256)}`,
              sport: rnd(65536),
              dport: rnd(65536),
              l3: v6 ? 0x86dd : 0x0800,
              l4: [6, 17, 1, 58, 47][rnd(5)]!,
              flags: rnd(256),
            };
    out.push({
      ...CURL_DROP,
      skb: rnd(7) === 0 ? { hi: 0, lo: rnd(1 << 30) } : { hi: 0xffff0000 + rnd(65536), lo: rnd(2 ** 31) * 2 },
      addr: { hi: 0xffffffff, lo: 0x81000000 + rnd(4) * 0x100 },
      ts: 1e9 + rnd(1e9) * 100_000 + i,
      p2: [12, 2, 99][rnd(3)]!,
      pid: [0, 3378123, 17, 4242, 77][rnd(5)]!,
      comm: ['swapper/0', 'curl', 'ping', 'é-proc'][rnd(4)]!,
      flags: rnd(6) === 0 ? 1 : 0,
      cpu: rnd(300),
      site: rnd(3),
      kind: rnd(8) === 0 ? EventKind.Return : EventKind.KprobeMulti,
      retval: { hi: rnd(2) ? 0xffffffff : 0, lo: rnd(2 ** 31) },
      meta:
        rnd(9) === 0
          ? undefined
          : {
              netns: [4026531840, 4026532000, 4026532999][rnd(3)]!,
              mark: rnd(3) === 0 ? rnd(2 ** 31) * 2 : 0,
              ifindex: rnd(4),
              len: rnd(70000),
              mtu: 1500,
              proto: [0x0800, 0x86dd, 0][rnd(3)]!,
            },
      tuple,
      wire:
        tuple === undefined || tuple.l3 === 0 || rnd(4) === 0
          ? undefined
          : {
              ipId: v6 ? undefined : rnd(65536),
              ipLen: rnd(65536),
              seq: tuple.l4 === 6 ? rnd(2 ** 31) * 2 + rnd(2) : undefined,
              ack: tuple.l4 === 6 ? rnd(2 ** 31) * 2 : undefined,
              dataHash: rnd(3) === 0 ? undefined : (rnd(2 ** 31) * 2).toString(16).padStart(8, '0'),
            },
      tunnel:
        rnd(3) === 0
          ? { saddr: '1.1.1.1', daddr: '2.2.2.2', sport: 1, dport: 2, l3: 0x0800, l4: 17, flags: 0 }
          : undefined,
      netfilter: rnd(10) === 0 ? { engine: 'iptables', pf: 2, hook: 1, table: 'filter', verdict: 0 } : undefined,
      skbDump: rnd(12) === 0 ? 'struct sk_buff {\n\t.len = (unsigned int)60,\n}' : undefined,
    });
  }
  return out;
}

const context = () =>
  fakeContext(
    {
      returns: new ReturnFormats(new Map()),
      processName: (pid) =>
        pid === 0 ? '<empty>:0' : pid === 77 ? `naïve-ü:${pid}` : pid === 4242 ? `"quo\\te":${pid}` : `curl:${pid}`,
      netnsName: (ns) => (ns === 4026532000 ? 'blue' : undefined),
      ifaceName: (ns, i) => (i === 2 ? 'eth0' : i === 3 && ns === 4026532999 ? 'vé' : undefined),
    },
    [{}, { name: 'kfree_skb', reason: 'p2' }, { name: 'ip_rcv' }],
  );

describe('PcapngEventWriter byte path', () => {
  const switches: Array<[string, OutputOptions]> = [
    ['default switches', DEFAULT_OUTPUT],
    ['--output-tcp-flags', { ...DEFAULT_OUTPUT, outputTcpFlags: true }],
    ['neither meta nor tuple', { ...DEFAULT_OUTPUT, outputMeta: false, outputTuple: false }],
    ['--output-netns-names', { ...DEFAULT_OUTPUT, outputNetnsNames: true }],
    [
      'caller, cb, stack and tunnel (the string path)',
      {
        ...DEFAULT_OUTPUT,
        outputCaller: true,
        outputSkbCb: true,
        outputStack: true,
        outputTunnel: true,
        outputNetnsNames: true,
      },
    ],
  ];
  for (const [name, output] of switches) {
    it(`writes the bytes of the comment and JSON strings, with ${name}`, () => {
      const events = varied(500);
      const fast = sink();
      const w = new PcapngEventWriter(fast, context(), { snaplen: 256, output });
      // The reference: the same blocks from strings (the comment pwru prints, JsonPrinter's line).
      const ref = sink();
      const r = new PcapngWriter(ref, { application: 'pwru' });
      const ctx = context();
      const json = new JsonPrinter({ ...output, timestamp: 'current' }, ctx);
      const comments = new PcapngEventWriter(sink(), ctx, { snaplen: 256, output });
      const data = Uint8Array.from({ length: 74 }, (_, i) => i);
      events.forEach((ev, i) => {
        const packet =
          i % 5 === 0 ? undefined : { linkType: LINKTYPE.ethernet, data: data.subarray(0, i % 74), origLen: 74 };
        w.write(ev, packet);
        while (r.interfaceCount < w.writer.interfaceCount) r.addInterface({ linkType: 1, snaplen: 1, name: 'x' });
        r.packet({
          iface: 0,
          tsHi: 0,
          tsLo: 0,
          data: packet?.data ?? new Uint8Array(0),
          origLen: packet?.origLen ?? ev.meta?.len ?? 0,
          comment: comments.comment(ev),
          custom: json.format(ev).slice(0, -1),
        });
      });
      w.flush();
      r.flush();
      // Compare the Enhanced Packet Blocks' options (interfaces and timestamps differ by design).
      expect(options(fast.bytes())).toEqual(options(ref.bytes()));
    });
  }

  it('leaves return events, rare sections and any event field it does not know to the string path', () => {
    const e = new EventOptionEncoder(fakeContext(), DEFAULT_OUTPUT);
    const plain: PwruEvent = { ...CURL_DROP, kind: EventKind.KprobeMulti };
    expect(e.bytePath(plain)).toBe(true);
    expect(e.bytePath({ ...plain, wire: { ipId: 1, ipLen: 60, seq: 7, ack: 0, dataHash: '811c9dc5' } })).toBe(true);
    expect(e.bytePath({ ...plain, kind: EventKind.Return })).toBe(false);
    expect(e.bytePath({ ...plain, skbDump: 'struct sk_buff {}' })).toBe(false);
    expect(e.bytePath({ ...plain, netfilter: { engine: 'iptables', pf: 2, hook: 1, table: 'filter' } })).toBe(false);
    // A section added to events later, which the byte path would leave out of the JSON.
    for (const field of unknownEventFields()) expect(e.bytePath({ ...plain, [field]: {} } as PwruEvent)).toBe(false);
  });
});

/** Every Enhanced Packet Block's bytes after its timestamp: lengths, packet bytes and options. */
function options(file: Buffer): string[] {
  const out: string[] = [];
  for (let off = 0; off < file.length; ) {
    const type = file.readUInt32LE(off);
    const len = file.readUInt32LE(off + 4);
    if (type === 6) out.push(file.subarray(off + 20, off + len).toString('hex'));
    off += len;
  }
  return out;
}

describe('bytes', () => {
  it('writes numbers as String() and addresses as hex64 do', () => {
    const out = new ByteOut(64);
    const text = (f: (b: Buffer, at: number) => number): string => out.buf.toString('latin1', 0, f(out.buf, 0));
    for (const n of [0, 9, 10, 99, 100, 4294967295, 4294967296, 1e8, 123456789012345, 2 ** 53 - 1, 2 ** 53, -1, 1.5])
      expect(text((b, at) => putUint(b, at, n))).toBe(String(n));
    expect(text((b, at) => putHex64(b, at, 0, 0))).toBe('0x0');
    expect(text((b, at) => putHex64(b, at, 0, 0xabc))).toBe('0xabc');
    expect(text((b, at) => putHex64(b, at, 0xffff8bb7, 0x38b6900))).toBe('0xffff8bb7038b6900');
    expect(text((b, at) => putHex64(b, at, 1, 0))).toBe('0x100000000');
  });
});
