// Benchmarks for bpf-loader-ts, each against a peer measured in the same run (medians of RUNS).
//   node bench/bench.mjs          (after `npx tsup`; as root)
// 1. Map lookup syscall cost: BpfMap.lookupInto (no allocation) through koffi vs the same loop in C (libbpf's
//    bpf_map_lookup_elem), built into /tmp with gcc at bench time.
// 2. Ring buffer delivery into JS with decoding, 64- and 246-byte records, vs libbpf's
//    ring_buffer__consume in C on the same map and program. Loss is accounted: the program counts
//    failed outputs in a per-CPU map, and delivered + counted must equal produced.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  Add,
  Atomic,
  call,
  exit,
  Helper,
  JEq,
  JSGE,
  link,
  LoadMapPtr,
  Mov,
  R0,
  R1,
  R2,
  R3,
  R4,
  R6,
  R10,
  StoreImm,
} from 'bpf-asm-ts';
import {
  BpfMap,
  MapType,
  Program,
  ProgramType,
  RingBufReader,
  flushKernelBtf,
  loadObjectFile,
  sumPerCpuCounter,
} from '../dist/index.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

function buildPeer() {
  const src = fileURLToPath(new URL('./peer.c', import.meta.url));
  const out = '/tmp/bpf-loader-ts-bench-peer';
  execFileSync('gcc', ['-O2', '-o', out, src, '-lbpf', '-lelf', '-lz']);
  return out;
}

function lookupBench(peer) {
  // (Node 20 has no `using` syntax: plain close() here.)
  const m = BpfMap.create({ name: 'bench_arr', type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
  const id = m.info().id;
  const N = 200_000;
  const out = new Uint8Array(8);
  const js = [];
  const c = [];
  for (let r = 0; r < RUNS; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) m.lookupInto(0, out);
    js.push(Number(process.hrtime.bigint() - t) / N);
    c.push(Number(execFileSync(peer, ['lookup', String(id), String(N)], { encoding: 'utf8' })));
  }
  m.close();
  return { js: median(js), c: median(c) };
}

function emitter(size) {
  const stores = [];
  for (let o = 0; o < size; o += 4) stores.push(StoreImm(R10, -256 + o, (o * 2654435761) | 0, 'u32'));
  return link([
    Mov.reg(R6, R1),
    ...stores,
    LoadMapPtr(R1, 'events'),
    Mov.reg(R2, R10),
    Add.imm(R2, -256),
    Mov.imm(R3, size),
    Mov.imm(R4, 0),
    call(Helper.ringbuf_output),
    JSGE.imm(R0, 0, 'out'),
    StoreImm(R10, -260, 0, 'u32'),
    LoadMapPtr(R1, 'lost'),
    Mov.reg(R2, R10),
    Add.imm(R2, -260),
    call(Helper.map_lookup_elem),
    JEq.imm(R0, 0, 'out'),
    Mov.imm(R1, 1),
    Atomic.add(R0, 0, R1, 'u64'),
    Mov.imm(R0, 2).withSymbol('out'),
    exit(),
  ]);
}

function ringbufBench(peer, size) {
  const TOTAL = 400_000;
  const REPEAT = 20_000; // records produced per test run; the 16 MiB ring holds them all
  const packet = new Uint8Array(64);
  const js = [];
  const c = [];
  let accounted = true;
  for (let r = 0; r < RUNS; r++) {
    const events = BpfMap.create({
      name: 'events',
      type: MapType.RINGBUF,
      keySize: 0,
      valueSize: 0,
      maxEntries: 1 << 24,
    });
    const lost = BpfMap.create({ name: 'lost', type: MapType.PERCPU_ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
    const prog = Program.load({
      name: 'emit',
      type: ProgramType.XDP,
      instructions: emitter(size),
      maps: { events, lost },
    });
    const reader = new RingBufReader(events);
    let sum = 0;
    const decode =
      size >= 246
        ? (d, o) => {
            // pwru-like: pid, addr, ts, ifindex, protocol, l4 proto, stack id
            sum +=
              d.getUint32(o, true) +
              d.getUint32(o + 8, true) +
              d.getUint32(o + 32, true) +
              d.getUint32(o + 72, true) +
              d.getUint16(o + 84, true) +
              d.getUint8(o + 144) +
              d.getInt32(o + 186, true);
          }
        : (d, o) => {
            sum += d.getUint32(o, true) + d.getUint32(o + 8, true) + d.getUint32(o + 12, true);
          };
    let got = 0;
    let consumeNs = 0;
    for (let produced = 0; produced < TOTAL; produced += REPEAT) {
      prog.testRun({ data: packet, repeat: REPEAT });
      const t = process.hrtime.bigint();
      got += reader.consume(decode);
      consumeNs += Number(process.hrtime.bigint() - t);
    }
    if (BigInt(got) + sumPerCpuCounter(lost) !== BigInt(TOTAL)) accounted = false;
    js.push({ rate: (got / consumeNs) * 1e9, got });
    const [seen, ns] = execFileSync(
      peer,
      ['ringbuf', String(events.info().id), String(prog.info().id), String(TOTAL), String(REPEAT)],
      { encoding: 'utf8' },
    )
      .trim()
      .split(' ')
      .map(Number);
    c.push((seen / ns) * 1e9);
    if (sum === 0.5) console.log(sum); // keep the decode alive
    reader.close();
    prog.close();
    lost.close();
    events.close();
  }
  const rate = median(js.map((x) => x.rate));
  return { js: rate, c: median(c), mbs: (rate * size) / 1e6, accounted, got: js[0].got };
}

/**
 * Open + relocate (CO-RE against the kernel's BTF, read afresh each round as a new process
 * would) + load + close of a clang-built object, vs libbpf's bpf_object__open_file +
 * bpf_object__load + close in C on the same file.
 */
function objectLoadBench(peer, file) {
  const path = fileURLToPath(new URL(`../test/object/${file}`, import.meta.url));
  const N = 20;
  const js = [];
  const c = [];
  for (let r = 0; r < RUNS; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      flushKernelBtf();
      loadObjectFile(path).close();
    }
    js.push(Number(process.hrtime.bigint() - t) / N);
    c.push(Number(execFileSync(peer, ['objload', path, String(N)], { encoding: 'utf8' })));
  }
  return { js: median(js), c: median(c) };
}

if (!existsSync(fileURLToPath(new URL('../dist/index.js', import.meta.url)))) {
  console.error('build first: npx tsup');
  process.exit(1);
}
const peer = buildPeer();
const l = lookupBench(peer);
const r64 = ringbufBench(peer, 64);
const r246 = ringbufBench(peer, 246);
const objects = ['globals.bpf.o', 'drops.bpf.o', 'core.bpf.o'].map((f) => [f, objectLoadBench(peer, f)]);

console.log(
  `\n## bpf-loader-ts benchmarks (${RUNS} runs, medians; kernel ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()})\n`,
);
console.log('| benchmark | bpf-loader-ts (JS, koffi) | peer (C, libbpf) | ratio JS/C |');
console.log('|---|---|---|---|');
console.log(`| map lookup, ns per syscall | ${fmt(l.js)} | ${fmt(l.c)} | ${fmt(l.js / l.c, 2)}× slower |`);
for (const [size, r] of [
  [64, r64],
  [246, r246],
]) {
  console.log(
    `| ring buffer ${size} B records, records/s into user space with decoding | ${fmt(r.js)} (${fmt(r.mbs, 1)} MB/s) | ${fmt(r.c)} | ${fmt(r.c / r.js, 2)}× slower |`,
  );
}
for (const [file, o] of objects) {
  console.log(
    `| open + CO-RE + load + close of ${file}, ms | ${fmt(o.js / 1e6, 2)} | ${fmt(o.c / 1e6, 2)} | ${fmt(o.js / o.c, 2)}× |`,
  );
}
console.log(
  `\nLoss accounting: delivered + counted reserve failures = produced in every run: ${r64.accounted && r246.accounted ? 'yes' : 'NO'}.`,
);
console.log(
  "Kprobe attach/detach (500 functions and pwru's full set, vs bpftrace and a C loop) runs in the test VM: npm run bench:vm at the repository root.",
);
