// pcap2ebpf benchmark (run after `npx tsup`: `node bench/bench.mjs`, or `npm run bench`).
// Compares, in one run, medians of several runs:
//  1. cBPF instruction counts: our optimizer (fed libpcap's unoptimized code) vs libpcap's optimizer;
//  2. in-kernel cost, ns/packet via BPF_PROG_TEST_RUN `repeat`, of our optimized cBPF lowered to eBPF
//     vs libpcap's optimized cBPF lowered by the same converter (direct access and kernel-memory copy);
//  3. helper calls per evaluation in kernel-memory mode: ours (one copy) vs pwru's scheme (one
//     bpf_probe_read_kernel per executed load), counted by tracing the corpus packets;
//  4. the front end's compile-time comparison with libpcap (bench/compile.mjs), when present.
// Needs root for part 2 (skipped with a note otherwise). No assertions: numbers only.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { link, encode } from 'bpf-asm-ts';
import { formatListing, fromTuples, optimize, tcProgram, lowerCbpf, traceFilter } from '../dist/index.js';
import { PROG_TYPE, TestBpf } from '../../../tools/testing/bpf-syscall.mjs';
import { perLoadProbeReads } from './pwru-scheme.mjs';
import {
  Add,
  call,
  callFunction,
  exit,
  Helper,
  JNE,
  LoadMapPtr,
  LoadMem,
  Mov,
  R0,
  R1,
  R10,
  R2,
  R6,
  R7,
  StoreImm,
} from 'bpf-asm-ts';

const here = dirname(fileURLToPath(import.meta.url));
const corpus = resolve(here, '../test/corpus');
const RUNS = 5;
const REPEAT = 2000;
const LINKTYPES = [
  ['EN10MB', 'public-l2.jsonl', 'packets-l2.jsonl'],
  ['RAW', 'public-l3.jsonl', 'packets-l3.jsonl'],
];

const lines = (file) =>
  readFileSync(join(corpus, file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};
const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

const data = LINKTYPES.map(([linktype, recs, pkts]) => ({
  linktype,
  records: lines(recs).filter((r) => r.valid && r.cbpf_opt_raw && r.cbpf_noopt_raw && !r.match_error),
  packets: lines(pkts).map((p) => ({ ...p, bytes: Uint8Array.from(Buffer.from(p.hex, 'hex')) })),
}));

// ---- 1. instruction counts ------------------------------------------------------------------
console.log('## cBPF instruction counts: our optimizer vs libpcap 1.10 (same unoptimized input)\n');
console.log(
  '| link type | programs | libpcap total | ours total | ratio | median libpcap/ours | max libpcap/ours | ours <= libpcap | identical listings | optimize µs/program (median) |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const d of data) {
  const theirs = [];
  const ours = [];
  let notLonger = 0;
  let identical = 0;
  const times = [];
  for (const r of d.records) {
    const input = fromTuples(r.cbpf_noopt_raw);
    const perRun = [];
    let opt;
    for (let i = 0; i < RUNS; i++) {
      const t0 = process.hrtime.bigint();
      opt = optimize(input);
      perRun.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
    times.push(median(perRun));
    theirs.push(r.insn_count_opt);
    ours.push(opt.length);
    if (opt.length <= r.insn_count_opt) notLonger++;
    if (JSON.stringify(formatListing(opt)) === JSON.stringify(r.cbpf_opt)) identical++; // `tcpdump -d` text
  }
  const n = d.records.length;
  console.log(
    `| ${d.linktype} | ${n} | ${sum(theirs)} | ${sum(ours)} | ${fmt(sum(ours) / sum(theirs), 3)} | ${median(theirs)}/${median(ours)} | ${Math.max(...theirs)}/${Math.max(...ours)} | ${notLonger} (${fmt((100 * notLonger) / n)}%) | ${identical} (${fmt((100 * identical) / n)}%) | ${fmt(median(times))} |`,
  );
}

// ---- 3. helper calls in kernel-memory mode ---------------------------------------------------
console.log('\n## Helper calls per evaluation in kernel-memory mode (all corpus records × packets)\n');
console.log('| link type | evaluations | ours: mean (max) | pwru scheme (one per executed load): mean (max) | ratio |');
console.log('|---|---|---|---|---|');
for (const d of data) {
  let evaluations = 0;
  let oursTotal = 0;
  let oursMax = 0;
  let pwruTotal = 0;
  let pwruMax = 0;
  for (const r of d.records) {
    const program = fromTuples(r.cbpf_opt_raw);
    let calls;
    try {
      calls = lowerCbpf(program, { memory: 'kernel' }).helperCalls;
    } catch {
      continue; // not lowerable (ancillary loads)
    }
    const isLoad = (code) => [0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0xb1, 0x60, 0x61].includes(code);
    for (const p of d.packets) {
      let loads = 0;
      try {
        traceFilter(program, p.bytes, {
          maxSteps: 100000,
          onStep: (s) => {
            if (isLoad(program[s.pc].code)) loads++;
          },
        });
      } catch {
        /* a loop that never ends: counted so far */
      }
      evaluations++;
      oursTotal += calls;
      oursMax = Math.max(oursMax, calls);
      pwruTotal += loads;
      pwruMax = Math.max(pwruMax, loads);
    }
  }
  console.log(
    `| ${d.linktype} | ${evaluations} | ${fmt(oursTotal / evaluations, 2)} (${oursMax}) | ${fmt(pwruTotal / evaluations, 2)} (${pwruMax}) | ${fmt(pwruTotal / Math.max(1, oursTotal), 2)}× fewer calls |`,
  );
}

// ---- 2. in-kernel cost -------------------------------------------------------------------------
const bpf = TestBpf.open();
if (typeof bpf === 'string') {
  console.log(`\n(in-kernel timing skipped: ${bpf})`);
} else {
  console.log(
    `\n## In-kernel cost, ns/packet (BPF_PROG_TEST_RUN, repeat ${REPEAT}, per-packet median of ${RUNS} runs, mean over a sample of programs × packets ≤ 1514 bytes)\n`,
  );
  console.log(
    'Both filters are lowered by our converter; "ours" is our optimizer\'s cBPF, "libpcap" is libpcap\'s optimized cBPF. Filter cost = run time minus an empty program\'s (baseline).\n',
  );
  console.log(
    '| link type | memory model | programs | baseline ns | ours filter ns/pkt | libpcap filter ns/pkt | ours/libpcap |',
  );
  console.log('|---|---|---|---|---|---|---|');
  const PREFIX = Uint8Array.from([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x88, 0xb5]);
  const mapFd = bpf.createArrayMap(8 + 9216);
  for (const d of data) {
    // A fixed sample so the run stays short: every 6th record, every 8th packet.
    const sample = d.records.filter((r, i) => i % 6 === 0 && !r.expr.includes('protochain'));
    const packets = d.packets.filter((p, i) => i % 8 === 0 && p.bytes.length <= 1514);
    for (const memory of ['packet', 'kernel']) {
      const loadOne = (cbpf) => {
        if (memory === 'packet')
          return bpf.load(PROG_TYPE.sched_cls, link(tcProgram(cbpf, { offset: 14 }).instructions).encode());
        const f = lowerCbpf(cbpf, { memory: 'kernel', labelPrefix: 'f' });
        const host = [
          StoreImm(R10, -4, 0, 'u32'),
          Mov.reg(R2, R10),
          Add.imm(R2, -4),
          LoadMapPtr(R1, 'packet'),
          call(Helper.map_lookup_elem),
          JNE.imm(R0, 0, 1),
          exit(),
          LoadMem(R2, R0, 0, 'u32'),
          Mov.reg(R1, R0),
          Add.imm(R1, 8),
          callFunction(f.name),
          exit(),
        ];
        const linked = link(host, { subprograms: [f.instructions] });
        return bpf.load(PROG_TYPE.socket_filter, encode(linked.resolve(() => mapFd)));
      };
      const perPacket = (fd, p) => {
        if (memory === 'packet') {
          const buf = new Uint8Array(14 + p.bytes.length);
          buf.set(PREFIX);
          buf.set(p.bytes, 14);
          return bpf.testRun(fd, buf, REPEAT).duration;
        }
        const value = new Uint8Array(8 + p.bytes.length);
        new DataView(value.buffer).setUint32(0, p.bytes.length, true);
        value.set(p.bytes, 8);
        bpf.updateArray(mapFd, 0, value);
        return bpf.testRun(fd, PREFIX, REPEAT).duration;
      };
      const ours = [];
      const theirs = [];
      let programs = 0;
      for (const r of sample) {
        let fdOurs;
        let fdTheirs;
        try {
          fdOurs = loadOne(optimize(fromTuples(r.cbpf_noopt_raw)));
          fdTheirs = loadOne(fromTuples(r.cbpf_opt_raw));
        } catch {
          if (fdOurs !== undefined) bpf.close(fdOurs);
          continue;
        }
        programs++;
        for (const p of packets) {
          const a = [];
          const b = [];
          for (let i = 0; i < RUNS; i++) {
            a.push(perPacket(fdOurs, p));
            b.push(perPacket(fdTheirs, p));
          }
          ours.push(median(a));
          theirs.push(median(b));
        }
        bpf.close(fdOurs);
        bpf.close(fdTheirs);
      }
      // BPF_PROG_TEST_RUN reports whole ns per run: average the per-packet medians over all
      // packets and programs for sub-ns resolution, and subtract what an empty program costs.
      const baselineFd = loadOne(fromTuples([[6, 0, 0, 0]]));
      const base = packets.map((p) => median(Array.from({ length: RUNS }, () => perPacket(baselineFd, p))));
      bpf.close(baselineFd);
      const mean = (xs) => sum(xs) / xs.length;
      const b = mean(base);
      const mo = mean(ours) - b;
      const mt = mean(theirs) - b;
      const shown = (x) => (x < 0.5 ? '< 0.5 (below resolution)' : fmt(x, 2));
      const ratio = mo < 0.5 || mt < 0.5 ? 'n/a' : fmt(mo / mt, 3);
      console.log(`| ${d.linktype} | ${memory} | ${programs} | ${fmt(b)} | ${shown(mo)} | ${shown(mt)} | ${ratio} |`);
    }
  }
  // Kernel memory: our one copy vs pwru's scheme (one bpf_probe_read_kernel per executed load),
  // both on libpcap's optimized cBPF, the packet in an array map value.
  console.log(
    `\n## Kernel-memory model: one copy (ours) vs one bpf_probe_read_kernel per load (pwru's scheme), ns/packet\n`,
  );
  console.log(
    "Same filters (libpcap's optimized cBPF), same packets, same host; filter cost net of an empty program.\n",
  );
  console.log('| link type | programs | ours ns/pkt | pwru scheme ns/pkt | pwru scheme / ours |');
  console.log('|---|---|---|---|---|');
  const lookupHost = [
    StoreImm(R10, -4, 0, 'u32'),
    Mov.reg(R2, R10),
    Add.imm(R2, -4),
    LoadMapPtr(R1, 'packet'),
    call(Helper.map_lookup_elem),
    JNE.imm(R0, 0, 1),
    exit(),
    LoadMem(R7, R0, 0, 'u32'),
    Mov.reg(R6, R0),
    Add.imm(R6, 8),
  ];
  const loadHosted = (filter, endIsPointer) => {
    const args = endIsPointer
      ? [Mov.reg(R1, R6), Mov.reg(R2, R6), Add.reg(R2, R7)]
      : [Mov.reg(R1, R6), Mov.reg(R2, R7)];
    const linked = link([...lookupHost, ...args, callFunction('f'), exit()], { subprograms: [filter] });
    return bpf.load(PROG_TYPE.socket_filter, encode(linked.resolve(() => mapFd)));
  };
  const stageKernel = (p) => {
    const value = new Uint8Array(8 + p.bytes.length);
    new DataView(value.buffer).setUint32(0, p.bytes.length, true);
    value.set(p.bytes, 8);
    bpf.updateArray(mapFd, 0, value);
  };
  const timeOn = (fd, p) => {
    stageKernel(p);
    return median(Array.from({ length: RUNS }, () => bpf.testRun(fd, PREFIX, REPEAT).duration));
  };
  for (const d of data) {
    const sample = d.records.filter((r, i) => i % 6 === 0 && !r.expr.includes('protochain'));
    const packets = d.packets.filter((p, i) => i % 8 === 0 && p.bytes.length <= 1514);
    const baseFd = loadHosted(
      lowerCbpf(fromTuples([[6, 0, 0, 0]]), { memory: 'kernel', labelPrefix: 'f' }).instructions,
      false,
    );
    const base = sum(packets.map((p) => timeOn(baseFd, p))) / packets.length;
    bpf.close(baseFd);
    const ours = [];
    const pwru = [];
    let programs = 0;
    for (const r of sample) {
      const cbpf = fromTuples(r.cbpf_opt_raw);
      let a;
      let b;
      try {
        a = loadHosted(lowerCbpf(cbpf, { memory: 'kernel', labelPrefix: 'f' }).instructions, false);
        b = loadHosted(perLoadProbeReads(lowerCbpf(cbpf, { memory: 'packet', labelPrefix: 'f' }).instructions), true);
      } catch {
        if (a !== undefined) bpf.close(a);
        continue;
      }
      programs++;
      for (const p of packets) {
        ours.push(timeOn(a, p) - base);
        pwru.push(timeOn(b, p) - base);
      }
      bpf.close(a);
      bpf.close(b);
    }
    const mo = sum(ours) / ours.length;
    const mp = sum(pwru) / pwru.length;
    console.log(`| ${d.linktype} | ${programs} | ${fmt(mo, 2)} | ${fmt(mp, 2)} | ${fmt(mp / mo, 2)}× |`);
  }
  bpf.close(mapFd);
}

// ---- 4. compile time (the front end's benchmark) ------------------------------------------
if (existsSync(join(here, 'compile.mjs'))) {
  console.log('');
  await import('./compile.mjs');
}
