// End to end: the drops tracer's generated skeleton loads, attaches (tp_btf on the host kernel)
// and counts a real drop by reason: UDP to a closed loopback port is dropped with NO_SOCKET.
import { createSocket } from 'node:dgram';
import { enumValue, loadKernelBtf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { RingBufReader } from '../../src/reader/ringbuf.js';
import { importSkeleton } from './skeleton-helper.js';

const vmlinux = loadKernelBtf();
const hasReason = vmlinux.idsByName('skb_drop_reason', 'enum').length > 0;

async function closedUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe.skipIf(!hasReason)('drops tracer (tp_btf/kfree_skb) from its generated skeleton', () => {
  it('counts UDP drops to a closed port as NO_SOCKET, and streams them through the ring buffer', async () => {
    const NO_SOCKET = Number(enumValue(vmlinux, 'skb_drop_reason', 'SKB_DROP_REASON_NO_SOCKET'));
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const { DropsSkeleton } = (await importSkeleton('drops.bpf.o')) as any;
    const skel = DropsSkeleton.load({ globals: { only_reason: NO_SOCKET } });
    try {
      expect(skel.rodata.only_reason).toBe(NO_SOCKET);
      const links = skel.attach();
      expect(links).toHaveLength(1);
      const port = await closedUdpPort();
      const tx = createSocket('udp4');
      for (let i = 0; i < 3; i++)
        await new Promise<void>((r, j) => tx.send(new Uint8Array(100), port, '127.0.0.1', (e) => (e ? j(e) : r())));
      tx.close();
      await new Promise((r) => setTimeout(r, 50));
      const counts = new Map(skel.maps.drops_by_reason.entries());
      expect([...counts.keys()]).toEqual([NO_SOCKET]); // only_reason filtered the rest
      expect(counts.get(NO_SOCKET)).toBeGreaterThanOrEqual(3n);
      expect(skel.bss.total).toBe(counts.get(NO_SOCKET));
      const reader = new RingBufReader(skel.maps.events);
      const events = reader.readAll().map((e) => {
        const v = new DataView(e.buffer, e.byteOffset, e.byteLength);
        return { reason: v.getUint32(8, true), len: v.getUint32(12, true), protocol: v.getUint16(20, true) };
      });
      reader.close();
      // Each drop: the reason, the UDP datagram (8-byte header + 100 bytes), ETH_P_IP.
      expect(
        events.filter((e) => e.len === 108 && e.protocol === 0x0800 && e.reason === NO_SOCKET).length,
      ).toBeGreaterThanOrEqual(3);
      skel.bss.total = 0n;
      expect(skel.bss.total).toBe(0n);
    } finally {
      skel.close();
    }
  });
});
