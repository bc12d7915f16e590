import { describe, expect, it } from 'vitest';
import { hasHostBtf, hostBtf, vmlinux61 } from '../test/fixtures.js';
import { Btf } from './btf.js';
import { BtfBuilder } from './builder.js';
import { BtfNotFoundError } from './errors.js';
import { tracepointSignature } from './tracepoint.js';
import { typeName } from './type-name.js';

const described = (btf: Btf, name: string) =>
  tracepointSignature(btf, name).params.map((p) => `${p.ctxIndex}:${p.name}:${typeName(btf, p.type)}`);

describe('tracepointSignature', () => {
  it('names the arguments of kfree_skb on Debian 6.1 (from __bpf_trace_kfree_skb) and skips the context', () => {
    const btf = vmlinux61();
    expect(described(btf, 'kfree_skb')).toEqual([
      '0:skb:struct sk_buff *',
      '1:location:void *',
      '2:reason:enum skb_drop_reason',
    ]);
    const sig = tracepointSignature(btf, 'btf_trace_kfree_skb');
    expect(sig.name).toBe('kfree_skb');
    expect(sig.namesFrom).toBe('__bpf_trace_kfree_skb');
    expect(btf.type(sig.typedefId).name).toBe('btf_trace_kfree_skb');
    expect(sig.param('reason')).toMatchObject({ position: 3, ctxIndex: 2 });
  });

  it.skipIf(!hasHostBtf)('reads the names from __probestub_* on a 6.4+ kernel (this host)', () => {
    const sig = tracepointSignature(hostBtf(), 'kfree_skb');
    expect(sig.namesFrom).toBe('__probestub_kfree_skb');
    expect(sig.param('reason').ctxIndex).toBe(2);
  });

  it('an unknown argument lists the known ones', () => {
    expect(() => tracepointSignature(vmlinux61(), 'kfree_skb').param('why')).toThrow(
      "tracepoint kfree_skb has no argument 'why'; its arguments are skb, location, reason",
    );
  });

  it('an unknown tracepoint is a BtfNotFoundError', () => {
    expect(() => tracepointSignature(vmlinux61(), 'no_such_tp')).toThrow(BtfNotFoundError);
  });

  it('without a named twin the parameters stay unnamed, and say so', () => {
    const b = new BtfBuilder();
    const int = b.addInt('int', 4, { signed: true });
    const voidp = b.addPtr(0);
    const proto = b.addFuncProto(0, [
      { name: '', type: voidp },
      { name: '', type: int },
    ]);
    b.addTypedef('btf_trace_mine', b.addPtr(proto));
    const btf = Btf.parse(b.build());
    const sig = tracepointSignature(btf, 'mine');
    expect(sig.namesFrom).toBeUndefined();
    expect(sig.params).toEqual([{ position: 1, ctxIndex: 0, name: '', type: int }]);
    expect(() => sig.param('x')).toThrow(/arguments are \(unnamed #1\)/);
  });
});
