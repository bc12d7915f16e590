/**
 * The contract, in the kernel: for every corpus record, the program OUR compiler produces —
 * optimized (`compileFilter` with the optimizer on, pwru's mode) and unoptimized — lowered by our
 * lowering in each memory model and run by BPF_PROG_TEST_RUN on every corpus packet, accepts
 * exactly libpcap's `matches` and `matches_noopt` respectively. Compiled exactly as the corpus
 * test compiles (netmask 0, the corpus's names). To keep program loads few, identical programs
 * run once and up to 32 filters are linked as bpf-to-bpf functions into one program that returns
 * a bit per filter (accumulated in a map value, which the verifier does not track, so its paths do
 * not multiply). Needs root and BPF; skips with the reason otherwise.
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
import type { CbpfInstruction } from '../cbpf/instruction.js';
import {
  corpusCompileOptions,
  LINKTYPES,
  loadPackets,
  loadRecords,
  type CorpusPacket,
  type CorpusRecord,
} from '../cbpf/test-corpus.js';
import { compileFilter } from '../compile.js';
import { FilterError } from '../lang/errors.js';
import { lowerCbpf } from './lower.js';
import { MODES, SKB_TEST_MAX, stage, type Mode } from './test-hosts.js';

const bpf = TestBpf.open();
const reason = typeof bpf === 'string' ? bpf : undefined;
if (reason) console.log(`skipping in-kernel eBPF tests: ${reason}`);

const BATCH = 32;

/** The two compiler modes and the corpus verdicts each must reproduce. */
const COMPILES = [
  { label: 'optimized', optimize: true, want: (r: CorpusRecord) => (r.valid ? r.matches : null) },
  { label: 'unoptimized', optimize: false, want: (r: CorpusRecord) => (r.noopt_valid ? r.matches_noopt : null) },
] as const;

/** One record in one compiler mode: our program for it (or our compiler's error) and libpcap's verdicts. */
interface Check {
  record: CorpusRecord;
  compile: (typeof COMPILES)[number];
  want: number[];
  /** Key of our program in the de-duplicated program list; undefined when our compiler refused. */
  key?: string;
  error?: string;
}

const keyOf = (p: readonly CbpfInstruction[]): string => JSON.stringify(p.map((i) => [i.code, i.jt, i.jf, i.k]));

/** protochain's backward jump: such filters are costly to verify and get a program of their own. */
const loops = (p: readonly CbpfInstruction[]): boolean => p.some((i) => i.code === 0x05 && (i.k | 0) < 0);

describe.skipIf(reason !== undefined).each(LINKTYPES)(
  'in-kernel agreement of our compiler with libpcap (%s)',
  (linktype) => {
    const k = bpf as TestBpf;
    const packets = loadPackets(linktype);
    // Records the kernel can check: libpcap compiled them and ran them on the capture (`inbound`,
    // `ifindex` need savefile metadata and have no verdicts).
    const checks: Check[] = [];
    const programs = new Map<string, CbpfInstruction[]>();
    for (const record of loadRecords(linktype)) {
      if (record.match_error) continue;
      for (const compile of COMPILES) {
        const want = compile.want(record);
        if (!want) continue;
        try {
          const program = compileFilter(record.expr, corpusCompileOptions(linktype, compile.optimize)).instructions;
          const key = keyOf(program);
          programs.set(key, program);
          checks.push({ record, compile, want, key });
        } catch (e) {
          if (!(e instanceof FilterError)) throw e;
          checks.push({ record, compile, want, error: e.message });
        }
      }
    }
    const mapFd = reason ? -1 : k.createArrayMap(8 + 9216);
    const verdictFd = reason ? -1 : k.createArrayMap(4);
    afterAll(() => {
      if (mapFd >= 0) k.close(mapFd);
      if (verdictFd >= 0) k.close(verdictFd);
    });

    /** One program calling up to 32 filters; bit i of its return value is filter i's verdict. */
    function loadBatch(mode: Mode, batch: CbpfInstruction[][]): number {
      // The corpus's longest IPv6 header chain needs 3 trips round protochain's loop; a bound of 8
      // keeps verification quick (the default bound is loaded in kernel.property.test.ts).
      const filters = batch.map((program, i) =>
        lowerCbpf(program, { memory: mode.memory, labelPrefix: `filter${i}`, maxLoopIterations: 8 }),
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

    it.each(MODES)('$name: accepts exactly `matches` optimized and `matches_noopt` unoptimized', (mode) => {
      const eligible = mode.memory === 'kernel' ? packets : packets.filter((p) => p.bytes.length <= SKB_TEST_MAX);
      const eligibleSet = new Set(eligible.map((p) => p.index));
      const accepted = new Map<string, number[]>();
      const all = [...programs];
      const batches: Array<Array<[string, CbpfInstruction[]]>> = all.filter(([, p]) => loops(p)).map((e) => [e]);
      const straight = all.filter(([, p]) => !loops(p));
      for (let start = 0; start < straight.length; start += BATCH) batches.push(straight.slice(start, start + BATCH));
      for (const batch of batches) {
        const fd = loadBatch(
          mode,
          batch.map(([, p]) => p),
        );
        try {
          const masks = verdicts(mode, fd, eligible);
          batch.forEach(([key], i) => {
            accepted.set(
              key,
              eligible.filter((_, j) => (masks[j]! >>> i) & 1).map((p) => p.index),
            );
          });
        } finally {
          k.close(fd);
        }
      }
      const byCategory = new Map<string, Record<string, { total: number; agree: number }>>();
      const failures: string[] = [];
      for (const c of checks) {
        const got = c.key === undefined ? undefined : accepted.get(c.key)!;
        const want = c.want.filter((i) => eligibleSet.has(i));
        const cat = byCategory.get(c.record.category) ?? {
          optimized: { total: 0, agree: 0 },
          unoptimized: { total: 0, agree: 0 },
        };
        const tally = cat[c.compile.label]!;
        tally.total++;
        if (got && JSON.stringify(got) === JSON.stringify(want)) tally.agree++;
        else if (!got) failures.push(`${c.record.expr} (${c.compile.label}): our compiler refuses it: ${c.error}`);
        else failures.push(`${c.record.expr} (${c.compile.label}): got ${got.length} packets, want ${want.length}`);
        byCategory.set(c.record.category, cat);
      }
      const ratio = (t: { total: number; agree: number }): string => `${t.agree}/${t.total}`;
      const sum = (label: string) =>
        [...byCategory.values()].reduce(
          (s, c) => ({ total: s.total + c[label]!.total, agree: s.agree + c[label]!.agree }),
          { total: 0, agree: 0 },
        );
      const lines = [...byCategory]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(
          ([cat, c]) => `  ${cat.padEnd(22)} ${ratio(c.optimized!).padStart(7)} ${ratio(c.unoptimized!).padStart(11)}`,
        );
      const skipped = packets.length - eligible.length;
      console.log(
        `${linktype} ${mode.name}: records agreeing, optimized ${ratio(sum('optimized'))}, unoptimized ${ratio(sum('unoptimized'))}` +
          ` (${programs.size} distinct programs in ${batches.length} loads)` +
          (skipped ? `; ${skipped} packet(s) over ${SKB_TEST_MAX} bytes cannot be test-run as an skb` : '') +
          `\n  ${'category'.padEnd(22)} ${'opt'.padStart(7)} ${'noopt'.padStart(11)}\n${lines.join('\n')}`,
      );
      expect(failures).toEqual([]);
    });
  },
);
