/**
 * Random valid cBPF programs, lowered in each memory model and run by the kernel, return
 * exactly what the interpreter (libpcap's semantics) returns on random packets: the same value
 * on acceptance, 0 where a load runs off the packet or X is 0 in a division. This exercises
 * every ALU operation, X-indexed loads and scratch memory far beyond what the corpus uses.
 * Needs root and BPF; skips with the reason otherwise.
 */
import { callFunction, encode, exit, link, Mov, R1, R2, R6, R7 } from 'bpf-asm-ts';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { TestBpf } from '../../../../tools/testing/bpf-syscall.mjs';
import {
  aluK,
  aluX,
  fromTuples,
  jmpK,
  ldAbs,
  ldImm,
  ldInd,
  ldLen,
  ldxImm,
  negA,
  retA,
  retK,
  type CbpfInstruction,
} from '../cbpf/instruction.js';
import { runFilter } from '../cbpf/interpreter.js';
import { BPF_DIV, BPF_JEQ, BPF_JGT, BPF_LSH, BPF_MOD, BPF_RSH, BPF_SUB } from '../cbpf/opcode.js';
import { cbpfProgram, packet } from '../cbpf/test-programs.js';
import { lowerCbpf } from './lower.js';
import { MODES, stage } from './test-hosts.js';

/** libpcap 1.10's `ip6 protochain 17` for EN10MB (`tcpdump -ddd`). */
const PROTOCHAIN_17 = [
  [40, 0, 0, 12],
  [21, 0, 33, 34525],
  [48, 0, 0, 20],
  [1, 0, 0, 40],
  [21, 27, 0, 17],
  [21, 26, 0, 59],
  [21, 3, 0, 0],
  [21, 2, 0, 60],
  [21, 1, 0, 43],
  [21, 0, 9, 44],
  [80, 0, 0, 14],
  [2, 0, 0, 0],
  [80, 0, 0, 15],
  [4, 0, 0, 1],
  [36, 0, 0, 8],
  [12, 0, 0, 0],
  [7, 0, 0, 0],
  [96, 0, 0, 0],
  [5, 0, 0, 4294967281],
  [21, 0, 12, 51],
  [135, 0, 0, 0],
  [80, 0, 0, 14],
  [2, 0, 0, 0],
  [135, 0, 0, 0],
  [4, 0, 0, 1],
  [7, 0, 0, 0],
  [80, 0, 0, 14],
  [4, 0, 0, 2],
  [36, 0, 0, 4],
  [7, 0, 0, 0],
  [96, 0, 0, 0],
  [5, 0, 0, 4294967268],
  [4, 0, 0, 0],
  [21, 0, 1, 17],
  [6, 0, 0, 262144],
  [6, 0, 0, 0],
];

const bpf = TestBpf.open();
const reason = typeof bpf === 'string' ? bpf : undefined;
if (reason) console.log(`skipping in-kernel random-program tests: ${reason}`);

describe.skipIf(reason !== undefined)('random programs in the kernel', () => {
  const k = bpf as TestBpf;
  const mapFd = reason ? -1 : k.createArrayMap(8 + 9216);
  afterAll(() => {
    if (mapFd >= 0) k.close(mapFd);
  });

  /** Hand-picked corners: shift counts at 31/32, division and modulus by 0, big constants. */
  const corners: Array<[string, CbpfInstruction[]]> = [
    ['lsh x by 31', [ldImm(1), ldxImm(31), aluX(BPF_LSH), retA()]],
    ['lsh x by 32 gives 0', [ldImm(1), ldxImm(32), aluX(BPF_LSH), retA()]],
    ['rsh x by 33 gives 0', [ldImm(0xffffffff), ldxImm(33), aluX(BPF_RSH), retA()]],
    ['mod x by 0 rejects', [ldImm(7), ldxImm(0), aluX(BPF_MOD), retA()]],
    ['div x by 0 rejects', [ldImm(7), ldxImm(0), aluX(BPF_DIV), retK(5)]],
    ['jgt with k >= 2^31 is unsigned', [ldImm(0x90000000), jmpK(BPF_JGT, 0x80000000, 0, 1), retK(1), retK(2)]],
    ['jeq with k = 0xffffffff', [ldImm(0), aluK(BPF_SUB, 1), jmpK(BPF_JEQ, 0xffffffff, 0, 1), retK(1), retK(2)]],
    ['ret of a big constant', [retK(0xfffffffe)]],
    ['neg wraps at 32 bits', [ldImm(5), negA(), retA()]],
    ['packet length', [ldLen(), retA()]],
    ['word load past the end rejects', [ldAbs('W', 60), retK(9)]],
    ['indexed load by a huge X rejects', [ldxImm(0xfffffff0), ldInd('B', 0x20), retK(9)]],
  ];

  it.each(MODES)('$name agrees with the interpreter on corner cases', (mode) => {
    const p = Uint8Array.from({ length: 62 }, (_, i) => (i * 37 + 11) & 0xff);
    for (const [what, program] of corners) {
      const filter = lowerCbpf(program, { memory: mode.memory, labelPrefix: 'f' });
      const main = [...mode.host, Mov.reg(R1, R6), Mov.reg(R2, R7), callFunction('f'), exit()];
      const linked = link(main, { subprograms: [filter.instructions] });
      const fd = k.load(mode.type, encode(linked.resolve(() => mapFd)));
      try {
        expect(k.testRun(fd, stage(k, mode, mapFd, p)).retval, what).toBe(runFilter(program, p));
      } finally {
        k.close(fd);
      }
    }
  });

  it.each(MODES)('$name runs a protochain loop with the default bound', (mode) => {
    // ip6 protochain 17 over IPv6 → hop-by-hop → UDP, as libpcap compiles it (backward ja).
    const program = fromTuples(PROTOCHAIN_17);
    const filter = lowerCbpf(program, { memory: mode.memory, labelPrefix: 'f' });
    const main = [...mode.host, Mov.reg(R1, R6), Mov.reg(R2, R7), callFunction('f'), exit()];
    const linked = link(main, { subprograms: [filter.instructions] });
    const fd = k.load(mode.type, encode(linked.resolve(() => mapFd)));
    try {
      const hopByHopUdp = Uint8Array.from([
        ...[2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x86, 0xdd], // Ethernet, IPv6
        ...[0x60, 0, 0, 0, 0, 16, 0, 64], // IPv6: payload 16, next header 0 (hop-by-hop)
        ...new Array<number>(32).fill(1), // addresses
        ...[17, 0, 1, 4, 0, 0, 0, 0], // hop-by-hop: next header UDP, length 0
        ...[0, 53, 0, 53, 0, 8, 0, 0], // UDP
      ]);
      const tcpOnly = hopByHopUdp.slice();
      tcpOnly[54] = 6;
      for (const p of [hopByHopUdp, tcpOnly])
        expect(k.testRun(fd, stage(k, mode, mapFd, p)).retval).toBe(runFilter(program, p));
      expect(runFilter(program, hopByHopUdp)).toBe(262144);
      expect(runFilter(program, tcpOnly)).toBe(0);
    } finally {
      k.close(fd);
    }
  });

  it.each(MODES)('$name returns what the interpreter returns', (mode) => {
    fc.assert(
      fc.property(cbpfProgram(), fc.array(packet(), { minLength: 10, maxLength: 10 }), (program, packets) => {
        const filter = lowerCbpf(program, { memory: mode.memory, labelPrefix: 'f' });
        const main = [...mode.host, Mov.reg(R1, R6), Mov.reg(R2, R7), callFunction('f'), exit()];
        const linked = link(main, { subprograms: [filter.instructions] });
        const fd = k.load(mode.type, encode(linked.resolve(() => mapFd)));
        try {
          for (const p of packets) expect(k.testRun(fd, stage(k, mode, mapFd, p)).retval).toBe(runFilter(program, p));
        } finally {
          k.close(fd);
        }
      }),
      { numRuns: 80, seed: 5 },
    );
  });
});
