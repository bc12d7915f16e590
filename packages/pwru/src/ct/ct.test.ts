import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Btf, BtfBuilder } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { ctFieldsFromBtf } from './fields.js';
import { ctJson, ctNames, ctStatusNames, ctText } from './names.js';
import { CT, CT_TUPLE, ctAt, CtFlags } from './section.js';

const btf = Btf.parse(gunzipSync(readFileSync(new URL('../../../btf/test/data/vmlinux-6.1.btf.gz', import.meta.url))));
const names = ctNames(btf);

/** A section as the program writes it: a DNAT'd TCP flow 10.0.0.1:40000 -> 10.0.0.2:8080, rewritten to :9090. */
function section(over: { info?: number; flags?: number; addr?: bigint; status?: bigint } = {}): DataView {
  const v = new DataView(new ArrayBuffer(CT.size));
  v.setBigUint64(CT.addr, over.addr ?? 0xffff888100001000n, true);
  v.setBigUint64(CT.status, over.status ?? 0x1aen, true); // SEEN_REPLY|ASSURED|CONFIRMED|DST_NAT|SRC_NAT_DONE|DST_NAT_DONE
  v.setUint32(CT.mark, 0x42, true);
  v.setUint16(CT.zone, 3, true);
  v.setUint8(CT.info, over.info ?? 0);
  v.setUint8(CT.flags, over.flags ?? CtFlags.present | CtFlags.mark | CtFlags.zone);
  const tuple = (at: number, s: number[], sp: number, d: number[], dp: number): void => {
    s.forEach((b, i) => v.setUint8(at + CT_TUPLE.saddr + i, b));
    d.forEach((b, i) => v.setUint8(at + CT_TUPLE.daddr + i, b));
    v.setUint16(at + CT_TUPLE.sport, sp, false);
    v.setUint16(at + CT_TUPLE.dport, dp, false);
    v.setUint16(at + CT_TUPLE.l3num, 2, true);
    v.setUint8(at + CT_TUPLE.proto, 6);
  };
  tuple(CT.orig, [10, 0, 0, 1], 40000, [10, 0, 0, 2], 8080);
  tuple(CT.reply, [10, 0, 0, 2], 9090, [10, 0, 0, 1], 40000);
  return v;
}

describe('--output-ct', () => {
  it('reads nf_conn offsets from BTF, the reply tuple one tuple_hash after the original', () => {
    const f = ctFieldsFromBtf(btf);
    const hash = btf.typeByName('nf_conntrack_tuple_hash', 'struct');
    expect(f.tuples[1] - f.tuples[0]).toBe(hash.size);
    expect(f.mark).toBeDefined();
    expect(f.missing).toEqual([]);
  });

  it('says once what a kernel without nf_conn.mark or zone lacks, and still works', () => {
    const b = new BtfBuilder();
    const u8 = b.addInt('unsigned char', 1);
    const u16 = b.addInt('short unsigned int', 2);
    const u64 = b.addInt('long unsigned int', 8);
    const u3 = b.addArray(u8, u16, 16);
    const man = b.addStruct('', 20, [
      { name: 'u3', type: u3, bitOffset: 0 },
      { name: 'u', type: b.addUnion('', 2, [{ name: 'all', type: u16, bitOffset: 0 }]), bitOffset: 128 },
      { name: 'l3num', type: u16, bitOffset: 144 },
    ]);
    const dst = b.addStruct('', 20, [
      { name: 'u3', type: u3, bitOffset: 0 },
      { name: 'u', type: b.addUnion('', 2, [{ name: 'all', type: u16, bitOffset: 0 }]), bitOffset: 128 },
      { name: 'protonum', type: u8, bitOffset: 144 },
    ]);
    const tuple = b.addStruct('nf_conntrack_tuple', 40, [
      { name: 'src', type: man, bitOffset: 0 },
      { name: 'dst', type: dst, bitOffset: 160 },
    ]);
    const hash = b.addStruct('nf_conntrack_tuple_hash', 56, [{ name: 'tuple', type: tuple, bitOffset: 128 }]);
    b.addStruct('nf_conn', 128, [
      { name: 'tuplehash', type: b.addArray(hash, u16, 2), bitOffset: 0 },
      { name: 'status', type: u64, bitOffset: 112 * 8 },
    ]);
    b.addStruct('sk_buff', 16, [{ name: '_nfct', type: u64, bitOffset: 64 }]);
    const f = ctFieldsFromBtf(Btf.parse(b.build()));
    expect(f).toMatchObject({
      nfct: 8,
      status: 112,
      tuples: [16, 72],
      tuple: { srcU3: 0, srcAll: 16, l3num: 18, dstU3: 20, dstAll: 36, protonum: 38 },
    });
    expect(f.mark).toBeUndefined();
    expect(f.missing).toEqual([
      'kernel BTF has no nf_conn.mark (CONFIG_NF_CONNTRACK_MARK off): --output-ct shows no mark',
      'kernel BTF has no nf_conn.zone.id (CONFIG_NF_CONNTRACK_ZONES off): --output-ct shows no zone',
    ]);
  });

  it('names ctinfo and status bits from the kernel enums', () => {
    expect([...names.info]).toEqual([
      [0, 'ESTABLISHED'],
      [1, 'RELATED'],
      [2, 'NEW'],
      [3, 'ESTABLISHED_REPLY'],
      [4, 'RELATED_REPLY'],
      [7, 'UNTRACKED'],
    ]);
    expect(ctStatusNames(0x1ae, names)).toEqual([
      'SEEN_REPLY',
      'ASSURED',
      'CONFIRMED',
      'DST_NAT',
      'SRC_NAT_DONE',
      'DST_NAT_DONE',
    ]);
    expect(ctStatusNames(0x80000000, names)).toEqual(['0x80000000']);
  });

  it('decodes and prints both tuples of a DNAT, the entry address, mark and zone', () => {
    const ct = ctAt(section(), 0)!;
    expect(ctText(ct, names)).toBe(
      'ct=0xffff888100001000:ESTABLISHED [SEEN_REPLY|ASSURED|CONFIRMED|DST_NAT|SRC_NAT_DONE|DST_NAT_DONE] mark=0x42 zone=3 ' +
        'orig=10.0.0.1:40000->10.0.0.2:8080/tcp reply=10.0.0.2:9090->10.0.0.1:40000/tcp',
    );
    expect(ctJson(ct, names)).toEqual({
      addr: '0xffff888100001000',
      state: 'ESTABLISHED',
      status: ['SEEN_REPLY', 'ASSURED', 'CONFIRMED', 'DST_NAT', 'SRC_NAT_DONE', 'DST_NAT_DONE'],
      status_value: 0x1ae,
      mark: 0x42,
      zone: 3,
      orig: { saddr: '10.0.0.1', daddr: '10.0.0.2', sport: 40000, dport: 8080, proto: 6 },
      reply: { saddr: '10.0.0.2', daddr: '10.0.0.1', sport: 9090, dport: 40000, proto: 6 },
    });
  });

  it('is absent without a conntrack reference, and UNTRACKED has no tuples', () => {
    expect(ctAt(section({ flags: 0 }), 0)).toBeUndefined();
    const untracked = ctAt(section({ info: 7, addr: 0n, status: 0n, flags: CtFlags.present }), 0)!;
    expect(ctText(untracked, names)).toBe('ct=UNTRACKED');
    expect(ctJson(untracked, names)).toEqual({ addr: '0x0', state: 'UNTRACKED', status: [], status_value: 0 });
  });
});
