import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Btf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { fentrySignature } from './fentry-args.js';

const btf61 = Btf.parse(
  gunzipSync(readFileSync(new URL('../../../btf/test/data/vmlinux-6.1.btf.gz', import.meta.url))),
);
const sig = (name: string) => fentrySignature(btf61, btf61.findType(name, 'func')!.id);

describe('fentrySignature: which arguments a context load may read (Debian 6.1 BTF)', () => {
  it('refuses `const void *` (the 6.1 verifier: invalid bpf_context access for dst_blackhole_neigh_lookup)', () => {
    expect(sig('dst_blackhole_neigh_lookup')).toMatchObject({ argCount: 3, ctxReadable: [true, true, false] });
  });

  it("refuses a pointer to an enum (6.12 rejects sock_queue_rcv_skb_reason's `enum skb_drop_reason *`)", () => {
    expect(sig('sock_queue_rcv_skb_reason').ctxReadable).toEqual([true, true, false]);
  });

  it("allows integers, enums, plain `void *`, typedef'd scalars and pointers to structs", () => {
    expect(sig('kfree_skb_reason').ctxReadable).toEqual([true, true]); // skb, enum skb_drop_reason
    expect(sig('skb_copy_bits').ctxReadable).toEqual([true, true, true, true]); // skb, int, void *, int
    expect(sig('skb_checksum').ctxReadable).toEqual([true, true, true, true]); // __wsum is a typedef of u32
    expect(sig('ip_rcv').ctxReadable).toEqual([true, true, true, true]);
  });

  it('gives the BTF id and argument count the fexit return value is placed after', () => {
    const s = sig('ip_finish_output2');
    expect(s.btfId).toBe(btf61.findType('ip_finish_output2', 'func')!.id);
    expect(s.argCount).toBe(3);
  });
});
