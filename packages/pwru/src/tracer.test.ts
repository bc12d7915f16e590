import { loadKernelBtf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { fakeSession } from '../test/fake-session.js';
import { ProgramRefusedError, PwruError } from './errors.js';
import { parseArgs } from './flags/parse.js';
import { Logger } from './log.js';
import type { PlannedProgram } from './plan/programs.js';
import { Tracer } from './tracer.js';

let haveBtf = true;
try {
  loadKernelBtf();
} catch {
  haveBtf = false;
}
const root = process.getuid?.() === 0;

/** A kernel with fentry whose verifier refuses the programs of the functions in `refuse`. */
function fentrySession(refuse: (p: PlannedProgram) => boolean) {
  const fake = fakeSession(() => []);
  const load = fake.session.load;
  fake.session.features = () => ({
    kprobes: false,
    kprobeMulti: false,
    availableFilterFunctions: false,
    tpBtf: true,
    fentry: true,
  });
  fake.session.load = (p) => {
    if (refuse(p)) {
      const target = p.attach.type === 'fentry' ? `fentry ${p.attach.function.name}` : p.name;
      const reason = `verifier rejected program "${p.name}" (EACCES): invalid bpf_context access off=16 size=8`;
      throw new ProgramRefusedError(`cannot load the program for ${target}: ${reason}`, target, reason);
    }
    return load(p);
  };
  return fake;
}

describe.skipIf(!haveBtf || !root)('Tracer.start: functions whose program the kernel refuses (fentry)', () => {
  const opts = parseArgs(['--backend', 'fentry', '--filter-func', '(ip_rcv|ip_local_deliver|ip_output)']).options;

  it('skips and counts them as ignored, naming the first reasons under --debug, and traces the rest', async () => {
    const logs: string[] = [];
    const { session, planned } = fentrySession(
      (p) => p.attach.type === 'fentry' && p.attach.function.name === 'ip_local_deliver',
    );
    const tracer = await Tracer.start(opts, { session, log: new Logger((l) => logs.push(l), true) });
    expect(tracer.ignored).toBe(1);
    expect(tracer.attached).toBe(2);
    expect(planned.map((p) => (p.attach as { function: { name: string } }).function.name).sort()).toEqual([
      'ip_output',
      'ip_rcv',
    ]);
    expect(logs.join('')).toMatch(
      /DEBUG Ignored target="fentry ip_local_deliver" error="verifier rejected program .*invalid bpf_context access off=16 size=8"\n/,
    );
    expect(logs.join('')).toMatch(/INFO Attached ignored=1\n/);
    await tracer.close();
  });

  it('fails with the first reason when the kernel refuses every function', async () => {
    const { session, calls } = fentrySession(() => true);
    await expect(Tracer.start(opts, { session, log: new Logger(() => {}) })).rejects.toThrow(
      /^No kprobe\/tracepoint could be attached \(3 ignored; the first, fentry ip_\w+: verifier rejected program/,
    );
    expect(calls.at(-1)).toBe('close');
  });

  it("still stops at a refusal of a program that is not one function's (a generator bug, not a kernel limit)", async () => {
    const { session, calls } = fentrySession((p) => p.attach.type === 'tracepoint');
    const tp = parseArgs(['--backend', 'tracepoint', '--filter-func', 'kfree_skb']).options;
    await expect(Tracer.start(tp, { session, log: new Logger(() => {}) })).rejects.toThrow(PwruError);
    expect(calls.at(-1)).toBe('close');
  });
});
