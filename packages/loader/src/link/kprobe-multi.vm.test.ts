// Inside the test VM (tools/vm/test.sh), on kernels whose kprobe-multi links attach (6.12 with
// CONFIG_FPROBE); elsewhere every test is skipped with the probe's reason.
import { readFileSync, writeFileSync } from 'node:fs';
import { Add, Atomic, call, exit, Helper, JEq, link, LoadMapPtr, Mov, R0, R1, R2, R6, R10, StoreMem } from 'bpf-asm-ts';
import { describe, expect, it } from 'vitest';
import { countRuns } from '../../test/counter.js';
import { NotFoundError } from '../errors.js';
import { probeLinkType } from '../features/probes.js';
import { BpfMap } from '../map/map.js';
import { Program } from '../prog/program.js';
import { AttachType, MapType, ProgramType } from '../sys/generated/constants.js';
import { attachKprobeMulti } from './kprobe-multi.js';

const skip = !process.env.BPF_TS_VM
  ? 'runs only inside the test VM (tools/vm/test.sh)'
  : (() => {
      const r = probeLinkType('kprobe_multi');
      return r.supported
        ? undefined
        : `this kernel has no ${r.feature} (Linux >= ${r.minKernel} with CONFIG_FPROBE): ${r.detail}`;
    })();
if (skip) console.log(`skipped: kprobe-multi link tests: ${skip}`);

const newCounts = (entries = 1) =>
  BpfMap.create({ name: 'counts', type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: entries });
const count = (m: BpfMap, key = 0) => new DataView(m.lookup(key)!.buffer).getBigUint64(0, true);
const multiProgram = (counts: BpfMap, instructions = countRuns(0)) =>
  Program.load({
    name: 'kpm_count',
    type: ProgramType.KPROBE,
    expectedAttachType: AttachType.TRACE_KPROBE_MULTI,
    maps: { counts },
    instructions: link(instructions),
  });
const reads = (n = 5) => {
  for (let i = 0; i < n; i++) readFileSync('/proc/self/stat');
};
const scratch = `/tmp/kpm-${process.pid}`;
const writes = (n = 5) => {
  for (let i = 0; i < n; i++) writeFileSync(scratch, 'x');
};

/** Adds 1 to counts[bpf_get_attach_cookie(ctx)]: which function fired, told by its cookie. */
const countByCookie = () => [
  call(Helper.get_attach_cookie),
  StoreMem(R10, -4, R0, 'u32'),
  Mov.reg(R2, R10),
  Add.imm(R2, -4),
  LoadMapPtr(R1, 'counts'),
  call(Helper.map_lookup_elem),
  JEq.imm(R0, 0, 'out'),
  Mov.imm(R6, 1),
  Atomic.add(R0, 0, R6, 'u64'),
  Mov.imm(R0, 0).withSymbol('out'),
  exit(),
];

describe.skipIf(skip !== undefined)(
  `kprobe-multi links on Linux ${process.env.BPF_TS_VM}${skip ? ` — skipped: ${skip}` : ''}`,
  () => {
    it('one link on several functions by name counts every call, and nothing once closed', () => {
      using counts = newCounts();
      using prog = multiProgram(counts);
      const l = attachKprobeMulti(prog, { symbols: ['vfs_read', 'vfs_write'] });
      expect(l.target).toBe('kprobe-multi (2 functions)');
      reads(5);
      writes(5);
      const n = count(counts);
      expect(n).toBeGreaterThanOrEqual(10n);
      l.close();
      reads(5);
      expect(count(counts)).toBe(n);
    });

    it('the return variant (BPF_F_KPROBE_MULTI_RETURN) fires as the functions return', () => {
      using counts = newCounts();
      using prog = multiProgram(counts);
      using _l = attachKprobeMulti(prog, { symbols: ['vfs_read'], retprobe: true });
      reads(5);
      expect(count(counts)).toBeGreaterThanOrEqual(5n);
    });

    it('cookies tell the program which function fired (bpf_get_attach_cookie)', () => {
      using counts = newCounts(2);
      using prog = multiProgram(counts, countByCookie());
      using _l = attachKprobeMulti(prog, { symbols: ['vfs_read', 'vfs_write'], cookies: [0n, 1n] });
      const before = [count(counts, 0), count(counts, 1)];
      reads(7);
      const afterReads = [count(counts, 0), count(counts, 1)];
      writes(3);
      const afterWrites = [count(counts, 0), count(counts, 1)];
      expect(afterReads[0]! - before[0]!).toBeGreaterThanOrEqual(7n);
      expect(afterWrites[1]! - afterReads[1]!).toBeGreaterThanOrEqual(3n);
    });

    it('attaches by address from /proc/kallsyms too', () => {
      const line = readFileSync('/proc/kallsyms', 'utf8')
        .split('\n')
        .find((l) => / [tT] vfs_read$/.test(l));
      const addr = BigInt(`0x${line!.split(' ')[0]}`);
      expect(addr).not.toBe(0n);
      using counts = newCounts();
      using prog = multiProgram(counts);
      using _l = attachKprobeMulti(prog, { addresses: [addr] });
      reads(5);
      expect(count(counts)).toBeGreaterThanOrEqual(5n);
    });

    it('a function that does not exist fails the whole link with a NotFoundError saying so', () => {
      using counts = newCounts();
      using prog = multiProgram(counts);
      expect(() => attachKprobeMulti(prog, { symbols: ['vfs_read', 'no_such_function_bpfts'] })).toThrow(NotFoundError);
      expect(() => attachKprobeMulti(prog, { symbols: ['no_such_function_bpfts'] })).toThrow(
        /not traceable on this kernel/,
      );
    });
  },
);
