import { loadKernelBtf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { kernelLayoutFromBtf } from './btf-layout.js';

describe('kernelLayoutFromBtf', () => {
  it('reads sk_buff, net_device, net, sock, dst_entry and pt_regs offsets from the running kernel', () => {
    let btf;
    try {
      btf = loadKernelBtf();
    } catch (e) {
      console.log(`skipped: no kernel BTF (${(e as Error).message})`);
      return;
    }
    const k = kernelLayoutFromBtf(btf);
    expect(k.skbSize).toBeGreaterThan(150);
    expect(k.skb.mark.size).toBe(4);
    expect(k.skb.protocol.size).toBe(2);
    expect(k.skb.head.size).toBe(8);
    expect(k.skb.macLen.size).toBe(2);
    expect(k.netDevice.ifindex.size).toBe(4);
    expect(k.netInum.size).toBe(4);
    expect(k.qdiscCbData).toBe(8);
    expect(k.ptRegs?.args.map((a) => a.offset)).toEqual([112, 104, 96, 88, 72]);
  });
});
