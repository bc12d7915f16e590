/**
 * The lowered eBPF, run by the kernel (BPF_PROG_TEST_RUN) on every corpus packet, must accept
 * exactly the packets libpcap's optimized program accepts (`matches`), in all three memory
 * models. To keep program loads few, up to 32 filters are linked as bpf-to-bpf functions into
 * one program that returns a bit per filter (accumulated in a map value, which the verifier
 * does not track, so its paths do not multiply). Needs root and BPF; skips with the reason
 * otherwise.
 */
import {
  Add,
  call,
  callFunction,
  encode,
  exit,
  Helper,
  type Instruction,
  JEq,
  JNE,
  link,
  LoadMapPtr,
  LoadMem,
  Mov,
  Or,
  R0,
  R1,
  R10,
  R2,
  R6,
  R7,
  R9,
  StoreImm,
  StoreMem,
} from 'bpf-asm-ts';
import { afterAll, describe, expect, it } from 'vitest';
import { TestBpf } from '../../../../tools/testing/bpf-syscall.mjs';
import { fromTuples } from '../cbpf/instruction.js';
import { LINKTYPES, loadPackets, loadRecords, type CorpusPacket, type CorpusRecord } from '../cbpf/test-corpus.js';
import { lowerCbpf } from './lower.js';
import { MODES, SKB_TEST_MAX, stage, type Mode } from './test-hosts.js';

const bpf = TestBpf.open();
const reason = typeof bpf === 'string' ? bpf : undefined;
if (reason) console.log(`skipping in-kernel eBPF tests: ${reason}`);

const BATCH = 32;

/** Records whose optimized program the kernel can run: valid, no savefile-only metadata. */
function runnable(records: CorpusRecord[]): CorpusRecord[] {
  return records.filter((r) => r.valid && r.cbpf_opt_raw && !r.match_error && r.matches);
}

describe.skipIf(reason !== undefined).each(LINKTYPES)('in-kernel agreement with libpcap (%s)', (linktype) => {
  const k = bpf as TestBpf;
  const packets = loadPackets(linktype);
  const records = runnable(loadRecords(linktype));
  const programs = [...new Map(records.map((r) => [JSON.stringify(r.cbpf_opt_raw), r.cbpf_opt_raw!])).values()];
  const mapFd = reason ? -1 : k.createArrayMap(8 + 9216);
  const verdictFd = reason ? -1 : k.createArrayMap(4);
  afterAll(() => {
    if (mapFd >= 0) k.close(mapFd);
    if (verdictFd >= 0) k.close(verdictFd);
  });

  /** One program calling up to 32 filters; bit i of its return value is filter i's verdict. */
  function loadBatch(mode: Mode, batch: number[][][]): number {
    // The corpus's longest IPv6 header chain needs 3 trips round protochain's loop; a bound of 8
    // keeps verification quick (the default bound is loaded in kernel.property.test.ts).
    const filters = batch.map((raw, i) =>
      lowerCbpf(fromTuples(raw), { memory: mode.memory, labelPrefix: `filter${i}`, maxLoopIterations: 8 }),
    );
    const main: Instruction[] = [
      ...mode.host,
      // R9 = &verdicts[0], zeroed.
      StoreImm(R10, -8, 0, 'u32'),
      Mov.reg(R2, R10),
      Add.imm(R2, -8),
      LoadMapPtr(R1, 'verdicts'),
      call(Helper.map_lookup_elem),
      JNE.imm(R0, 0, 1),
      exit(),
      Mov.reg(R9, R0),
      StoreImm(R9, 0, 0, 'u32'),
    ];
    filters.forEach((f, i) => {
      main.push(
        Mov.reg(R1, R6),
        Mov.reg(R2, R7),
        callFunction(f.name),
        JEq.imm(R0, 0, 3),
        LoadMem(R1, R9, 0, 'u32'),
        Or.imm32(R1, (1 << i) | 0),
        StoreMem(R9, 0, R1, 'u32'),
      );
    });
    main.push(LoadMem(R0, R9, 0, 'u32'), exit());
    const linked = link(main, { subprograms: filters.map((f) => f.instructions) });
    return k.load(mode.type, encode(linked.resolve((r) => (r.symbol === 'packet' ? mapFd : verdictFd))));
  }

  function verdicts(mode: Mode, fd: number, eligible: CorpusPacket[]): number[] {
    return eligible.map((p) => k.testRun(fd, stage(k, mode, mapFd, p.bytes)).retval);
  }

  it.each(MODES)('$name: accepts exactly `matches` on every runnable record', (mode) => {
    const eligible = mode.memory === 'kernel' ? packets : packets.filter((p) => p.bytes.length <= SKB_TEST_MAX);
    const eligibleSet = new Set(eligible.map((p) => p.index));
    const accepted = new Map<string, number[]>();
    // protochain's loop is costly to verify: such filters get a program of their own.
    const loops = (raw: number[][]) => raw.some(([code, , , kk]) => code === 0x05 && (kk! | 0) < 0);
    const batches: number[][][][] = programs.filter(loops).map((raw) => [raw]);
    const straight = programs.filter((raw) => !loops(raw));
    for (let start = 0; start < straight.length; start += BATCH) batches.push(straight.slice(start, start + BATCH));
    for (const batch of batches) {
      const fd = loadBatch(mode, batch);
      try {
        const masks = verdicts(mode, fd, eligible);
        batch.forEach((raw, i) => {
          accepted.set(JSON.stringify(raw), eligible.filter((_, j) => (masks[j]! >>> i) & 1).map((p) => p.index));
        });
      } finally {
        k.close(fd);
      }
    }
    const byCategory = new Map<string, { total: number; agree: number }>();
    const failures: string[] = [];
    for (const r of records) {
      const got = accepted.get(JSON.stringify(r.cbpf_opt_raw))!;
      const want = r.matches!.filter((i) => eligibleSet.has(i));
      const c = byCategory.get(r.category) ?? { total: 0, agree: 0 };
      c.total++;
      if (JSON.stringify(got) === JSON.stringify(want)) c.agree++;
      else failures.push(`${r.expr}: got ${got.length} packets, want ${want.length}`);
      byCategory.set(r.category, c);
    }
    const lines = [...byCategory].sort().map(([cat, c]) => `  ${cat.padEnd(22)} ${c.agree}/${c.total}`);
    const skipped = packets.length - eligible.length;
    console.log(
      `${linktype} ${mode.name}: ${records.length - failures.length}/${records.length} records agree` +
        (skipped ? ` (${skipped} packet(s) over ${SKB_TEST_MAX} bytes cannot be test-run as an skb)` : '') +
        `\n${lines.join('\n')}`,
    );
    expect(failures).toEqual([]);
  });
});
