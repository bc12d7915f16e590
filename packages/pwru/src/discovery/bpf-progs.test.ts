import { readFileSync } from 'node:fs';
import { loadedPrograms, programFunctionTarget, ProgramType } from 'bpf-loader-ts';
import { describe, expect, it } from 'vitest';
import { loadTcTarget, loadXdpTarget } from '../../test/bpf-targets.mjs';
import { bpfProgSiteName, hookOf, selectBpfProgTargets } from './bpf-progs.js';

const prog = (id: number, type: number, name: string, functions: string[]) => ({
  id,
  type,
  name,
  tag: `${id}`.padStart(16, '0'),
  functions,
});

describe('selectBpfProgTargets', () => {
  it('keeps tc (sched_cls, sched_act) and XDP programs of the asked hooks, by id', () => {
    const progs = [
      prog(9, ProgramType.XDP, 'x', ['xdp_main']),
      prog(3, ProgramType.SCHED_CLS, 'cls', ['cls_main']),
      prog(4, ProgramType.SCHED_ACT, 'act', ['act_main']),
      prog(5, ProgramType.KPROBE, 'kp', ['kp']),
    ];
    expect(selectBpfProgTargets(progs, { tc: true, xdp: true }).targets.map((t) => [t.id, t.hook, t.entry])).toEqual([
      [3, 'tc', 'cls_main'],
      [4, 'tc', 'act_main'],
      [9, 'xdp', 'xdp_main'],
    ]);
    expect(selectBpfProgTargets(progs, { tc: false, xdp: true }).targets.map((t) => t.id)).toEqual([9]);
    expect(selectBpfProgTargets(progs, { tc: true, xdp: false }).targets.map((t) => t.id)).toEqual([3, 4]);
  });

  it('skips programs without BTF (no entry function to attach to), saying why', () => {
    const r = selectBpfProgTargets([prog(7, ProgramType.SCHED_CLS, 'nobtf', [])], { tc: true, xdp: true });
    expect(r.targets).toEqual([]);
    expect(r.skipped).toEqual([{ id: 7, name: 'nobtf', hook: 'tc', reason: expect.stringMatching(/no BTF/) }]);
  });

  it("never traces pwru's own programs", () => {
    expect(
      selectBpfProgTargets([prog(8, ProgramType.XDP, 'pwru_probe', ['f'])], { tc: true, xdp: true }).targets,
    ).toEqual([]);
  });

  it('maps program types to hooks', () => {
    expect([ProgramType.SCHED_CLS, ProgramType.SCHED_ACT, ProgramType.XDP, ProgramType.TRACING].map(hookOf)).toEqual([
      'tc',
      'tc',
      'xdp',
      undefined,
    ]);
  });
});

const root = process.getuid?.() === 0;
describe.skipIf(!root)('tc and XDP programs loaded on this kernel', () => {
  it('are found with their main function as entry even when a subprogram comes first in their BTF', () => {
    const tc = loadTcTarget('pwrut_disc_tc');
    const xdp = loadXdpTarget('pwrut_disc_xdp');
    try {
      const ids = new Set([tc.program.info().id, xdp.program.info().id]);
      const { targets } = selectBpfProgTargets(loadedPrograms({ filter: (i) => ids.has(i.id) }), {
        tc: true,
        xdp: true,
      });
      expect(targets.map((t) => [t.name, t.hook, t.entry])).toEqual([
        ['pwrut_disc_tc', 'tc', 'tc_main'],
        ['pwrut_disc_xdp', 'xdp', 'xdp_main'],
      ]);
      // The subprogram's FUNC has the lower BTF id; fentry must get the entry's.
      expect(tc.subId).toBeLessThan(tc.entryId);
      expect(programFunctionTarget(tc.program).attachBtfId).toBe(tc.entryId);
      // The FUNC column name is the program's kallsyms symbol, as upstream prints it.
      const kallsyms = readFileSync('/proc/kallsyms', 'utf8').replace(/\t/g, '');
      for (const t of targets) {
        const name = bpfProgSiteName(t);
        expect(name).toMatch(/\((tc|xdp)\)$/);
        expect(kallsyms).toContain(` ${name.replace(/\((tc|xdp)\)$/, '')}\n`);
      }
    } finally {
      tc.program.close();
      xdp.program.close();
    }
  });
});
