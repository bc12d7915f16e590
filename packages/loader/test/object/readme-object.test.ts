// The README's object example, verbatim apart from the imports, a drop to see, and the checks.
import { createSocket } from 'node:dgram';
import { expect, it } from 'vitest';
import { RingBufReader } from '../../src/index.js';
import { importSkeleton } from './skeleton-helper.js';

it('README: a clang-built tracer from its generated skeleton', async () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const { DropsSkeleton } = (await importSkeleton('drops.bpf.o')) as any;
  const lines: string[] = [];
  const console = { log: (s: string) => lines.push(s) };
  setTimeout(() => {
    const tx = createSocket('udp4');
    tx.send(new Uint8Array(10), 9, '127.0.0.1', () => tx.close()); // port 9: nobody listens
  }, 100);
  // --- README example starts ---
  const skel = DropsSkeleton.load({ globals: { only_reason: 0 } }); // a const volatile: set before load, then frozen
  try {
    skel.attach(); // SEC("tp_btf/kfree_skb") says how
    const reader = new RingBufReader(skel.maps.events);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const [reason, count] of skel.maps.drops_by_reason.entries()) {
      console.log(`drop reason ${reason}: ${count}`); // key: number, value: bigint, from the map's BTF
    }
    console.log(`${skel.bss.total} drops, ${reader.readAll().length} events`); // a .bss global
    reader.close();
  } finally {
    skel.close(); // detaches, closes programs and maps
  }
  // --- README example ends ---
  expect(lines.some((l) => /^drop reason \d+: [1-9]\d*$/.test(l))).toBe(true);
  const [, total, events] = /^(\d+) drops, (\d+) events$/.exec(lines.at(-1)!)!;
  expect(Number(total)).toBeGreaterThan(0);
  expect(Number(events)).toBeGreaterThanOrEqual(Number(total)); // drops after the total was read add events
});
