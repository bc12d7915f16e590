import { exit, incrementCounter, LoadMem, link, Mov, R0, R1, R7, SkBuffCtxOffset } from 'bpf-asm-ts';
import { describe, expect, it } from 'vitest';
import { Program } from '../prog/program.js';
import { MapType, ProgramType } from '../sys/generated/constants.js';
import { codec } from '../index.js';
import { BpfMap } from './map.js';
import { MapView } from './view.js';

describe("bpf-asm-ts's incrementCounter, run by the kernel", () => {
  it('creates each key once and adds on every later run (packets and bytes per length)', () => {
    const packets = BpfMap.create({ name: 'packets', type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 16 });
    const bytes = BpfMap.create({ name: 'bytes', type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 16 });
    const prog = Program.load({
      type: ProgramType.SOCKET_FILTER,
      maps: { packets, bytes },
      instructions: link([
        LoadMem(R7, R1, SkBuffCtxOffset.len, 'u32'), // the packet length: the key of both maps, the delta of `bytes`
        ...incrementCounter({ map: 'packets', key: R7 }),
        ...incrementCounter({ map: 'bytes', key: R7, registerDelta: R7 }),
        Mov.imm(R0, 0),
        exit(),
      ]),
    });
    try {
      for (let i = 0; i < 3; i++) prog.testRun({ data: new Uint8Array(64) });
      prog.testRun({ data: new Uint8Array(100) });
      // A socket filter's skb->len starts after the 14-byte Ethernet header test_run pulls.
      expect(new Map(new MapView(packets, codec.u32, codec.u64))).toEqual(
        new Map([
          [50, 3n],
          [86, 1n],
        ]),
      );
      expect(new Map(new MapView(bytes, codec.u32, codec.u64))).toEqual(
        new Map([
          [50, 150n],
          [86, 86n],
        ]),
      );
    } finally {
      prog.close();
      packets.close();
      bytes.close();
    }
  });
});
