// Runs inside the test VM (tools/vm/test.sh, every kernel of the matrix): BPF_TS_VM is set there.
// Each test is gated on the feature probe of what it attaches (kprobe PMU, fentry trampolines).
import { readdirSync, readFileSync } from 'node:fs';
import { BtfBuilder, loadBtfFile } from 'btf-parser';
import { BtfHandle } from '../btf/handle.js';
import { programFunctionTarget } from './program-target.js';
import { exit, link, Mov, R0 } from 'bpf-asm-ts';
import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../errors.js';
import { BpfMap } from '../map/map.js';
import { Program } from '../prog/program.js';
import { AttachType, MapType, ProgramType } from '../sys/generated/constants.js';
import { attachKprobes } from './batch.js';
import { attachKprobe } from './kprobe.js';
import { functionBtfId, kernelBtf, moduleFunctionTarget } from './targets.js';
import { attachTracing } from './tracing.js';
import { probeLinkType } from '../features/probes.js';
import { countRuns } from '../../test/counter.js';

const inVm = process.env.BPF_TS_VM !== undefined;
if (!inVm) console.warn('skipping kprobe/fentry tests: not in the test VM (bash tools/vm/test.sh packages/loader)');
/** Why `kind` links cannot be tested here, from the loader's own probe. */
const missing = (kind: 'kprobe' | 'tracing'): string | undefined => {
  if (!inVm) return 'not in the test VM';
  const r = probeLinkType(kind);
  return r.supported ? undefined : `this kernel has no ${r.feature} (Linux >= ${r.minKernel}): ${r.detail}`;
};
const noKprobes = missing('kprobe');
const noFentry = missing('tracing');
const titled = (title: string, why: string | undefined) => (why ? `${title} — skipped: ${why}` : title);

/** Counts its runs in counts[0]. */
function counter(counts: BpfMap, spec: Partial<Parameters<typeof Program.load>[0]> & { type: number }): Program {
  return Program.load({
    ...spec,
    maps: { counts },
    instructions: link(countRuns(0)),
  });
}

const count = (m: BpfMap) => new DataView(m.lookup(0)!.buffer).getBigUint64(0, true);
const newCounter = () =>
  BpfMap.create({ name: 'counts', type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
const readSomething = () => {
  for (let i = 0; i < 5; i++) readFileSync('/proc/self/stat');
};

describe.skipIf(!inVm)(`kprobes and fentry on Linux ${process.env.BPF_TS_VM}`, () => {
  it.skipIf(noKprobes !== undefined)(
    titled('a kprobe on vfs_read counts reads, and stops counting once closed', noKprobes),
    () => {
      using counts = newCounter();
      using prog = counter(counts, { name: 'kp_vfs_read', type: ProgramType.KPROBE });
      const l = attachKprobe(prog, 'vfs_read');
      expect(l.target).toBe('kprobe vfs_read');
      readSomething();
      const n = count(counts);
      expect(n).toBeGreaterThanOrEqual(5n);
      l.close();
      readSomething();
      expect(count(counts)).toBe(n);
    },
  );

  it.skipIf(noKprobes !== undefined)(titled('a kretprobe fires on return', noKprobes), () => {
    using counts = newCounter();
    using prog = counter(counts, { type: ProgramType.KPROBE });
    using _l = attachKprobe(prog, 'vfs_read', { retprobe: true });
    readSomething();
    expect(count(counts)).toBeGreaterThanOrEqual(5n);
  });

  it.skipIf(noKprobes !== undefined)(
    titled('a kprobe on a function that does not exist is a NotFoundError saying so', noKprobes),
    () => {
      using counts = newCounter();
      using prog = counter(counts, { type: ProgramType.KPROBE });
      expect(() => attachKprobe(prog, 'no_such_function_bpfts')).toThrow(NotFoundError);
      expect(() => attachKprobe(prog, 'no_such_function_bpfts')).toThrow(/not traceable on this kernel/);
    },
  );

  it.skipIf(noFentry !== undefined)(titled('fentry and fexit on vfs_read', noFentry), () => {
    for (const attachType of [AttachType.TRACE_FENTRY, AttachType.TRACE_FEXIT]) {
      using counts = newCounter();
      using prog = counter(counts, {
        type: ProgramType.TRACING,
        expectedAttachType: attachType,
        attachBtfId: functionBtfId('vfs_read'),
      });
      using _l = attachTracing(prog, { attachType });
      readSomething();
      expect(count(counts)).toBeGreaterThanOrEqual(5n);
    }
    expect(probeLinkType('tracing').supported).toBe(true);
  });

  it.skipIf(noKprobes !== undefined)(
    titled(
      'batch-attaches hundreds of kprobes with per-function failures and progress, then detaches them all',
      noKprobes,
    ),
    async () => {
      const available = readFileSync('/sys/kernel/tracing/available_filter_functions', 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[0]!)
        .filter((n) => /^(tcp|udp|ip)_/.test(n));
      const fns = [...new Set(available)].slice(0, 300);
      using counts = newCounter();
      using prog = counter(counts, { type: ProgramType.KPROBE });
      const progress: number[] = [];
      const set = await attachKprobes(prog, [...fns, 'no_such_function_bpfts'], {
        onProgress: (p) => progress.push(p.done),
      });
      expect(progress.at(-1)).toBe(fns.length + 1);
      expect(set.failures.find((f) => f.symbol === 'no_such_function_bpfts')?.reason).toBe('not_found');
      expect(set.size).toBeGreaterThan(fns.length * 0.8);
      const detached: number[] = [];
      await set.detach({ onProgress: (p) => detached.push(p.done) });
      expect(set.size).toBe(0);
      expect(detached.at(-1)).toBeGreaterThan(fns.length * 0.8);
    },
  );
});

describe.skipIf(noFentry !== undefined)(titled('fentry targets beyond vmlinux', noFentry), () => {
  it('fentry on the entry function of another BPF program (attach_prog_fd)', () => {
    const b = new BtfBuilder();
    const int = b.addInt('int', 4, { signed: true });
    const ctx = b.addPtr(b.addStruct('__sk_buff', 0, []));
    const fn = b.addFunc('target_entry', b.addFuncProto(int, [{ name: 'skb', type: ctx }]), 'global');
    using btf = BtfHandle.load(b.build());
    const funcInfo = new Uint8Array(8);
    new DataView(funcInfo.buffer).setUint32(4, fn, true);
    using target = Program.load({
      name: 'target',
      type: ProgramType.SCHED_CLS,
      instructions: [Mov.imm(R0, 0), exit()],
      btf: { fd: btf.fd, funcInfo },
    });
    const t = programFunctionTarget(target);
    expect(t.name).toBe('target_entry');
    using counts = newCounter();
    using tracer = counter(counts, {
      type: ProgramType.TRACING,
      expectedAttachType: AttachType.TRACE_FENTRY,
      attachBtfId: t.attachBtfId,
      attachProgFd: t.attachProgFd,
    });
    using _l = attachTracing(tracer, { attachType: AttachType.TRACE_FENTRY });
    target.testRun({ data: new Uint8Array(64), repeat: 3 });
    expect(count(counts)).toBe(3n);
  });

  // Module BTF (CONFIG_DEBUG_INFO_BTF_MODULES) appeared in 5.11: the VM's own modules (9p, ...) show it.
  const modules = inVm ? readdirSync('/sys/kernel/btf').filter((m) => m !== 'vmlinux') : [];
  const noModuleBtf =
    modules.length === 0
      ? 'this kernel has no module BTF in /sys/kernel/btf (Linux >= 5.11, CONFIG_DEBUG_INFO_BTF_MODULES)'
      : undefined;
  it.skipIf(noModuleBtf !== undefined)(
    titled('fentry on a kernel module function (attach_btf_obj_fd)', noModuleBtf),
    () => {
      const traceable = new Set(
        readFileSync('/sys/kernel/tracing/available_filter_functions', 'utf8')
          .split('\n')
          .filter((l) => l.includes('['))
          .map((l) => l.split(' ')[0]!),
      );
      let attached = false;
      for (const mod of modules) {
        const base = kernelBtf();
        const split = loadBtfFile(`/sys/kernel/btf/${mod}`, { base });
        // The module's own functions (ids past the base), traceable and not also in vmlinux.
        const fn = [...split.types('func')]
          .filter((f: { id: number }) => f.id > base.maxTypeId)
          .map((f: { name: string }) => f.name)
          .find((n: string) => traceable.has(n) && base.idsByName(n, 'func').length === 0);
        if (!fn) continue;
        const t = moduleFunctionTarget(fn, mod);
        using counts = newCounter();
        using prog = (() => {
          try {
            return counter(counts, {
              type: ProgramType.TRACING,
              expectedAttachType: AttachType.TRACE_FENTRY,
              attachBtfId: t.attachBtfId,
              attachBtfObjFd: t.attachBtfObjFd,
            });
          } finally {
            t.btf.close();
          }
        })();
        using _l = attachTracing(prog, { attachType: AttachType.TRACE_FENTRY, target: `fentry ${fn} [${mod}]` });
        attached = true;
        break;
      }
      expect(attached).toBe(true);
    },
  );
});
