// Runs inside the kprobe-capable test VM (tools/vm, Debian 6.1): BPF_TS_VM is set there.
import { readFileSync } from 'node:fs';
import { exit, link, Mov, R0 } from 'bpf-asm-ts';
import { describe, expect, it } from 'vitest';
import { Program } from '../prog/program.js';
import { ProgramType } from '../sys/generated/constants.js';
import { attachKprobes } from './batch.js';
import { RCU_EXPEDITED_PATH } from './expedited-rcu.js';
import { probeLinkType } from '../features/probes.js';

const inVm = process.env.BPF_TS_VM !== undefined;
if (!inVm)
  console.warn('skipping batch kprobe detach tests: not in the test VM (bash tools/vm/test.sh packages/loader)');
const kprobes = inVm ? probeLinkType('kprobe') : undefined;
const skip = !inVm
  ? 'not in the test VM'
  : kprobes!.supported
    ? undefined
    : `this kernel has no ${kprobes!.feature}: ${kprobes!.detail}`;

/** Function names of the kprobes registered right now (debugfs kprobes/list). */
const registeredKprobes = () =>
  readFileSync('/sys/kernel/debug/kprobes/list', 'utf8')
    .split('\n')
    .map((l) => /\s[kr]\s+([^\s+]+)\+0x/.exec(l)?.[1])
    .filter((s): s is string => s !== undefined);

describe.skipIf(skip !== undefined)(
  `batch kprobe detach on Linux ${process.env.BPF_TS_VM}${skip ? ` — skipped: ${skip}` : ''}`,
  () => {
    it('detaches with expedited RCU switched on only for the duration, leaving no kprobe behind', async () => {
      const fns = [
        ...new Set(
          readFileSync('/sys/kernel/tracing/available_filter_functions', 'utf8')
            .split('\n')
            .map((l) => l.split(' ')[0]!),
        ),
      ]
        .filter((n) => /^udp_/.test(n))
        .slice(0, 20);
      using prog = Program.load({
        name: 'noop_kp',
        type: ProgramType.KPROBE,
        instructions: link([Mov.imm(R0, 0), exit()]),
      });
      expect(readFileSync(RCU_EXPEDITED_PATH, 'utf8').trim()).toBe('0');
      const set = await attachKprobes(prog, fns);
      const attached = [...set.attached.keys()];
      expect(attached.length).toBeGreaterThan(10);
      expect(registeredKprobes()).toEqual(expect.arrayContaining(attached));
      const knobDuring: string[] = [];
      await set.detach({
        expediteRcu: true,
        onProgress: () => knobDuring.push(readFileSync(RCU_EXPEDITED_PATH, 'utf8').trim()),
      });
      expect(new Set(knobDuring)).toEqual(new Set(['1']));
      expect(readFileSync(RCU_EXPEDITED_PATH, 'utf8').trim()).toBe('0');
      expect(set.size).toBe(0);
      const left = new Set(registeredKprobes());
      expect(attached.filter((f) => left.has(f))).toEqual([]);
    });
  },
);
