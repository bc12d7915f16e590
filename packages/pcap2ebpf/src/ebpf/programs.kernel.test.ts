/**
 * The standalone programs (socket filter, tc classifier, XDP), loaded as they are and
 * test-run on every corpus packet, accept exactly libpcap's `matches` for a sample of the
 * corpus (every 8th valid record of each link type). Needs root and BPF; skips otherwise.
 */
import {
  Add,
  Atomic,
  call,
  Helper,
  JEq,
  link,
  LoadMapPtr,
  Mov,
  R0,
  R1,
  R2,
  R10,
  StoreImm,
  XdpAction,
  type Instruction,
} from 'bpf-asm-ts';
import { describe, expect, it } from 'vitest';
import { PROG_TYPE, TestBpf } from '../../../../tools/testing/bpf-syscall.mjs';
import { fromTuples } from '../cbpf/instruction.js';
import { LINKTYPES, loadPackets, loadRecords } from '../cbpf/test-corpus.js';
import { socketFilterProgram, tcProgram, xdpProgram, type FilterProgram } from './programs.js';
import { PREFIX, SKB_TEST_MAX, withPrefix } from './test-hosts.js';

const bpf = TestBpf.open();
const reason = typeof bpf === 'string' ? bpf : undefined;
if (reason) console.log(`skipping in-kernel standalone-program tests: ${reason}`);

const BUILDERS: Array<[string, (cbpf: ReturnType<typeof fromTuples>) => FilterProgram]> = [
  ['socket filter', (c) => socketFilterProgram(c)],
  ['tc classifier', (c) => tcProgram(c, { offset: PREFIX.length })],
  ['xdp', (c) => xdpProgram(c, { offset: PREFIX.length })],
];

describe.skipIf(reason !== undefined).each(LINKTYPES)('standalone programs in the kernel (%s)', (linktype) => {
  const k = bpf as TestBpf;
  const packets = loadPackets(linktype).filter((p) => p.bytes.length <= SKB_TEST_MAX);
  const runnable = new Set(packets.map((p) => p.index));
  const sample = loadRecords(linktype)
    .filter((r) => r.valid && r.cbpf_opt_raw && !r.match_error && r.matches)
    .filter((_, i) => i % 8 === 0);

  it.each(BUILDERS)('%s accepts exactly `matches`', (_name, build) => {
    for (const r of sample) {
      const program = build(fromTuples(r.cbpf_opt_raw!));
      const fd = k.load(PROG_TYPE[program.kind], link(program.instructions).encode());
      try {
        const got = packets.filter((p) => k.testRun(fd, withPrefix(p.bytes)).retval !== 0).map((p) => p.index);
        expect(got, r.expr).toEqual(r.matches!.filter((i) => runnable.has(i)));
      } finally {
        k.close(fd);
      }
    }
    expect(sample.length).toBeGreaterThan(50);
  });

  it('runs onMatch and onMiss before returning (counting matches and misses in a map)', () => {
    const r = sample.find((x) => x.expr === 'ip')!;
    const counts = k.createArrayMap(8, 2);
    /** counts[slot] += 1, with relative jumps only. */
    const bump = (slot: number): Instruction[] => [
      StoreImm(R10, -4, slot, 'u32'),
      LoadMapPtr(R1, counts),
      Mov.reg(R2, R10),
      Add.imm(R2, -4),
      call(Helper.map_lookup_elem),
      JEq.imm(R0, 0, 2),
      Mov.imm(R1, 1),
      Atomic.add(R0, 0, R1, 'u64'),
    ];
    const program = xdpProgram(fromTuples(r.cbpf_opt_raw!), {
      offset: PREFIX.length,
      verdict: { accept: XdpAction.PASS, reject: XdpAction.DROP },
      onMatch: bump(0),
      onMiss: bump(1),
    });
    expect(program.type).toBe(PROG_TYPE.xdp);
    const fd = k.load(program.type, link(program.instructions).encode());
    try {
      for (const p of packets)
        expect(k.testRun(fd, withPrefix(p.bytes)).retval).toBe(
          r.matches!.includes(p.index) ? XdpAction.PASS : XdpAction.DROP,
        );
      const slot = (i: number) => Number(k.lookup(counts, new Uint8Array([i, 0, 0, 0]), 8).readBigUInt64LE(0));
      const matched = packets.filter((p) => r.matches!.includes(p.index)).length;
      expect([slot(0), slot(1)]).toEqual([matched, packets.length - matched]);
      expect(matched).toBeGreaterThan(0);
    } finally {
      k.close(fd);
      k.close(counts);
    }
  });

  it('maps the result to XDP verdicts when asked (XDP_PASS on a match, XDP_DROP otherwise)', () => {
    const r = sample.find((x) => x.expr === 'ip')!;
    const program = xdpProgram(fromTuples(r.cbpf_opt_raw!), {
      offset: PREFIX.length,
      verdict: { accept: 2, reject: 1 },
    });
    const fd = k.load(PROG_TYPE.xdp, link(program.instructions).encode());
    try {
      for (const p of packets)
        expect(k.testRun(fd, withPrefix(p.bytes)).retval).toBe(r.matches!.includes(p.index) ? 2 : 1);
    } finally {
      k.close(fd);
    }
  });
});
