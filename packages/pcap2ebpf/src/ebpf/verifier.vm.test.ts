/**
 * The kernel-memory lowering (pwru's model) passes the verifier of every kernel in the VM matrix
 * (tools/vm: 5.10, 6.1, 6.12; this file runs once per kernel), not only the host's: every corpus
 * expression on both link types, compiled as the corpus test compiles it, optimized (pwru's mode)
 * and unoptimized; and the `protochain` filters at every packet window pwru's frames leave them.
 * Verifiers differ between releases (6.12 rejected `ip6 protochain 17` in pwru's windows while
 * 6.1 and 6.18 took it), so each kernel checks itself.
 *
 * Only the verifier is asked: the in-kernel verdicts are checked on the host (kernel.test.ts).
 * Emulated CPUs are slow, so filters are linked 32 at a time into one kprobe program (a type
 * that may call bpf_probe_read_kernel on every kernel of the matrix), and a batch the verifier
 * refuses is retried filter by filter to name the culprits.
 */
import { callFunction, encode, exit, type Instruction, link, Mov, R0, R1, R2, R6, R7 } from 'bpf-asm-ts';
import { afterAll, describe, expect, it } from 'vitest';
import { TestBpf } from '../../../../tools/testing/bpf-syscall.mjs';
import type { CbpfInstruction } from '../cbpf/instruction.js';
import { corpusCompileOptions, LINKTYPES, loadRecords } from '../cbpf/test-corpus.js';
import { compile, compileFilter } from '../compile.js';
import { FilterError } from '../lang/errors.js';
import { LoweringError } from './errors.js';
import { lowerCbpf, type LowerOptions } from './lower.js';
import { MODES } from './test-hosts.js';

const inVm = process.env.BPF_TS_VM !== undefined;
/** The kernel-memory test host's prologue (test-hosts.ts), shared with the in-kernel corpus test. */
const KERNEL_HOST = MODES.find((m) => m.memory === 'kernel')!.host;
const bpf = inVm ? TestBpf.open() : 'not in the test VM (run it with tools/vm/test.sh)';
const reason = typeof bpf === 'string' ? bpf : undefined;
if (reason) console.warn(`skipping the matrix verifier test of the kernel-memory lowering: ${reason}`);
const kernel = process.env.BPF_TS_VM ?? 'host';

/** BPF_PROG_TYPE_KPROBE: pwru's own kind of program; loads (without attaching) on every kernel. */
const KPROBE = 2;
const BATCH = 32;

/**
 * pwru's packet windows: `windowFor()` in packages/pwru/src/generate/pcap.ts gives multiples of
 * 32 from 64 to 384 (its frame is never empty); the default 256 is among them.
 */
const PWRU_WINDOWS = Array.from({ length: 11 }, (_, i) => 64 + 32 * i);
/** protochain filters: their backward jump is the lowering's one loop. */
const PROTOCHAIN = ['protochain 17', 'ip protochain 17', 'ip6 protochain 17', 'ip6 protochain 6 or ip6 protochain 17'];

interface Filter {
  /** What to call it in a failure message. */
  label: string;
  program: CbpfInstruction[];
  options?: Partial<LowerOptions>;
}

/** protochain's backward jump. */
const loops = (p: readonly CbpfInstruction[]): boolean => p.some((i) => i.code === 0x05 && (i.k | 0) < 0);

const keyOf = (p: readonly CbpfInstruction[]): string => JSON.stringify(p.map((i) => [i.code, i.jt, i.jf, i.k]));

describe.skipIf(reason !== undefined)(`kernel-memory lowering through the ${kernel} verifier`, () => {
  const k = bpf as TestBpf;
  const packetMap = reason ? -1 : k.createArrayMap(8 + 9216);
  afterAll(() => {
    if (packetMap >= 0) k.close(packetMap);
  });

  /** Loads one kprobe program calling each filter on a packet from the map; undefined or the verifier's complaint. */
  function verify(filters: Filter[]): string | undefined {
    const lowered = filters.map((f, i) =>
      lowerCbpf(f.program, { memory: 'kernel', labelPrefix: `filter${i}`, ...f.options }),
    );
    // R6 = packet address, R7 = length, from the 'packet' map as the kernel-memory test host does.
    const main: Instruction[] = [...KERNEL_HOST];
    for (const f of lowered) main.push(Mov.reg(R1, R6), Mov.reg(R2, R7), callFunction(f.name));
    main.push(Mov.imm(R0, 0), exit());
    const bytes = encode(link(main, { subprograms: lowered.map((f) => f.instructions) }).resolve(() => packetMap));
    try {
      k.close(k.load(KPROBE, bytes));
      return undefined;
    } catch (e) {
      const log = (e as { log?: string }).log;
      return log ? log.trim().split('\n').slice(-3).join(' | ') : String(e);
    }
  }

  /**
   * Verifies `filters`: straight-line ones 32 to a program, each loop (`protochain`) in a program
   * of its own — several bounded loops in one program multiply the verifier's paths. Returns how
   * many loads it took and each refused filter with the reason.
   */
  function verifyAll(filters: Filter[]): { loads: number; refused: string[] } {
    let loads = 0;
    const refused: string[] = [];
    const straight = filters.filter((f) => !loops(f.program));
    const batches = filters.filter((f) => loops(f.program)).map((f) => [f]);
    for (let start = 0; start < straight.length; start += BATCH) batches.push(straight.slice(start, start + BATCH));
    for (const batch of batches) {
      loads++;
      const why = verify(batch);
      if (why === undefined) continue;
      if (batch.length === 1) {
        refused.push(`${batch[0]!.label}: ${why}`);
        continue;
      }
      for (const f of batch) {
        loads++;
        const why = verify([f]);
        if (why !== undefined) refused.push(`${f.label}: ${why}`);
      }
    }
    return { loads, refused };
  }

  it.each(LINKTYPES)('every corpus expression, optimized and unoptimized (%s)', (linktype) => {
    const programs = new Map<string, Filter>();
    const unlowerable = new Set<string>();
    for (const record of loadRecords(linktype)) {
      for (const optimize of [true, false]) {
        let program: CbpfInstruction[];
        try {
          program = compileFilter(record.expr, corpusCompileOptions(linktype, optimize)).instructions;
        } catch (e) {
          if (e instanceof FilterError) continue; // refused as libpcap refuses it (the corpus test checks that)
          throw e;
        }
        const key = keyOf(program);
        if (programs.has(key) || unlowerable.has(key)) continue;
        try {
          lowerCbpf(program, { memory: 'kernel' });
        } catch (e) {
          // inbound/outbound/ifindex (ancillary loads), or loads beyond what fits the stack: the
          // lowering refuses them with a one-line reason (tested on the host).
          if (!(e instanceof LoweringError)) throw e;
          unlowerable.add(key);
          continue;
        }
        programs.set(key, { label: `'${record.expr}' (${optimize ? 'optimized' : 'unoptimized'})`, program });
      }
    }
    const started = performance.now();
    const { loads, refused } = verifyAll([...programs.values()]);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `${kernel} ${linktype}: ${programs.size - refused.length}/${programs.size} distinct corpus programs verified (${loads} loads, ${seconds} s; ${unlowerable.size} refused by the lowering itself)`,
    );
    expect(refused).toEqual([]);
    expect(programs.size).toBeGreaterThan(700);
  });

  it("protochain filters at every window pwru's frames leave (both link types, default loop bound)", () => {
    const filters: Filter[] = [];
    for (const linktype of LINKTYPES) {
      for (const expr of PROTOCHAIN) {
        const program = compile(expr, { linktype, optimize: true });
        for (const window of PWRU_WINDOWS) {
          filters.push({
            label: `'${expr}' (${linktype}, window ${window})`,
            program,
            options: { indirectWindow: window },
          });
        }
      }
    }
    const started = performance.now();
    const { loads, refused } = verifyAll(filters);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `${kernel} protochain: ${filters.length - refused.length}/${filters.length} filters verified (${PROTOCHAIN.length} expressions x 2 link types x ${PWRU_WINDOWS.length} windows; ${loads} loads, ${seconds} s)`,
    );
    expect(refused).toEqual([]);
  });
});
