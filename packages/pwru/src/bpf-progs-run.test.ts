import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProgramType } from 'bpf-loader-ts';
import { loadKernelBtf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { fakeSession } from '../test/fake-session.js';
import { encodeEvent, EventKind, eventLayout } from './event.js';
import { parseArgs } from './flags/parse.js';
import type { KernelSession } from './kernel/session.js';
import { Logger } from './log.js';
import type { PlannedProgram } from './plan/programs.js';
import { ProgressBar } from './progress.js';
import { run } from './run-cli.js';
import { trace, type TraceEvent } from './trace.js';

let haveBtf = true;
try {
  loadKernelBtf();
} catch {
  haveBtf = false;
}

const LOADED = [
  { id: 12, type: ProgramType.SCHED_CLS, name: 'cls', tag: '98075f36efc813b3', functions: ['tc_main', 'a_tc_helper'] },
  { id: 13, type: ProgramType.XDP, name: 'xdp', tag: '31205a4510f2c168', functions: ['xdp_main', 'a_xdp_helper'] },
  { id: 14, type: ProgramType.SCHED_CLS, name: 'nobtf', tag: '0000000000000000', functions: [] },
];

/** One event from each traced BPF program, in the layout of `--trace-only-bpf` (meta, cb, tuple). */
function bpfEvents(progs: PlannedProgram[]): Uint8Array[] {
  const layout = eventLayout({ meta: true, cb: true, tuple: true, tunnel: false, stack: false, caller: false });
  return progs.map((p, site) => {
    const xdp = p.attach.type === 'bpf-prog' && p.attach.target.hook === 'xdp';
    return encodeEvent(
      {
        skb: { hi: 0xffff8bb7, lo: 0x038b6900 },
        addr: { hi: 0, lo: 0 },
        ts: 1,
        p2: 0,
        p3: 0,
        pid: 0,
        cpu: site,
        site,
        kind: xdp ? EventKind.Xdp : EventKind.Tc,
        meta: { netns: 4026531840, mark: 0, ifindex: 1, len: 74, mtu: 1500, proto: 0x0800 },
        cb: [0, 0, 0, 0, 0],
        tuple: { saddr: '10.1.1.1', daddr: '10.1.1.2', sport: 40000, dport: 8080, l3: 0x0800, l4: 6, flags: 2 },
      },
      layout,
    );
  });
}

/** The fake tp_btf kernel, with fentry allowed (or refused with `refusal`) and LOADED programs. */
function session(refusal?: string) {
  const f = fakeSession(bpfEvents);
  const s: KernelSession = {
    ...f.session,
    features: () => ({ ...f.session.features(), fentry: refusal === undefined }),
    fentryRefusal: () => refusal,
    bpfPrograms: () => LOADED,
  };
  return { ...f, session: s };
}

async function runCli(argv: string[], s: KernelSession): Promise<{ code: number; out: string[]; logs: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'pwru-bpf-'));
  const out = openSync(join(dir, 'out'), 'w');
  const logs: string[] = [];
  const code = await run(parseArgs(argv).options, s, {
    log: new Logger((l) => logs.push(l.replace(/^\S+ \S+ /, ''))),
    out,
    signal: new AbortController().signal,
    progress: (n) => new ProgressBar(n, () => {}, false),
  });
  closeSync(out);
  return { code, out: readFileSync(join(dir, 'out'), 'utf8').split('\n'), logs };
}

describe.skipIf(!haveBtf)('tc and XDP program tracing (fake kernel session)', () => {
  it('--trace-only-bpf traces every tc and XDP program with BTF and nothing else, FUNC suffixed (tc)/(xdp)', async () => {
    const s = session();
    const r = await runCli(['--trace-only-bpf', '--output-limit-lines', '2'], s.session);
    expect(r.code).toBe(0);
    expect(s.planned.map((p) => [p.name, p.attach.type === 'bpf-prog' ? p.attach.target.id : p.attach.type])).toEqual([
      ['pwru_tc_0', 12],
      ['pwru_xdp_1', 13],
    ]);
    expect(r.out[0]).toContain(' __sk_buff->cb[] '); // tc tracing shows cb, as upstream
    expect(r.out[1]).toMatch(
      / \[0x00000000,0x00000000,0x00000000,0x00000000,0x00000000\] 10\.1\.1\.1:40000->10\.1\.1\.2:8080\(tcp\) bpf_prog_98075f36efc813b3_tc_main\[bpf\]\(tc\)$/,
    );
    expect(r.out[2]).toMatch(
      / 10\.1\.1\.1:40000->10\.1\.1\.2:8080\(tcp\) bpf_prog_31205a4510f2c168_xdp_main\[bpf\]\(xdp\)$/,
    );
    expect(r.logs).toEqual([
      'INFO Skip tracing bpf prog because cannot find its entry function name id=14 name=nobtf reason="it has no BTF, so its entry function is unknown"\n',
      'INFO Attaching tc-bpf progs...\n',
      'INFO Attaching xdp progs...\n',
      'INFO Attached ignored=0\n',
      'INFO Listening for events..\n',
      'INFO Printed events, exiting program.. count=2\n',
      'INFO Detaching bpf progs...\n',
      'WARN Some events were lost: the ring buffer was full total=3\n',
    ]);
  });

  it('puts the same names in JSON (trace() API)', async () => {
    const events: TraceEvent[] = [];
    for await (const ev of trace(
      { filterTraceXdp: true, traceOnlyBpf: true, outputLimitLines: 1 },
      { session: session().session },
    ))
      events.push(ev);
    expect(events.map((e) => e.func)).toEqual(['bpf_prog_31205a4510f2c168_xdp_main[bpf](xdp)']);
  });

  it('without --trace-only-bpf, attaches the kernel targets too, then the tc programs', async () => {
    const s = session();
    const r = await runCli(['--filter-trace-tc', '--filter-func', 'kfree_skb', '--output-limit-lines', '1'], s.session);
    expect(r.code).toBe(0);
    expect(s.planned.map((p) => p.attach.type)).toEqual(['tracepoint', 'bpf-prog']);
    expect(r.logs.slice(1, 4)).toEqual([
      'INFO Attaching tracepoints via=tracepoint\n',
      'INFO Attaching tc-bpf progs...\n',
      'INFO Attached ignored=0\n',
    ]);
  });

  it('fails in one line naming fentry when the kernel refuses it, attaching nothing', async () => {
    const s = session('cannot load program "pwru_probe": operation not permitted (EPERM)');
    const r = await runCli(['--filter-trace-tc', '--filter-trace-xdp'], s.session);
    expect(r.code).toBe(1);
    expect(r.logs).toEqual([
      'ERROR Failed to run pwru error="--filter-trace-tc and --filter-trace-xdp need fentry (BPF trampolines), which this kernel refuses: cannot load program \\"pwru_probe\\": operation not permitted (EPERM)"\n',
    ]);
    expect(s.calls).toEqual(['close']);
    const only = await runCli(['--trace-only-bpf'], session('EPERM').session);
    expect(only.logs[0]).toContain(
      'error="--trace-only-bpf needs fentry (BPF trampolines), which this kernel refuses: EPERM"',
    );
  });

  it('fails with upstream words when there is nothing to trace', async () => {
    const f = session();
    const s: KernelSession = { ...f.session, bpfPrograms: () => [] };
    const r = await runCli(['--trace-only-bpf'], s);
    expect(r.code).toBe(1);
    expect(r.logs.at(-1)).toContain('error="No kprobe/tc-bpf/xdp to trace!"');
    expect(r.logs).toContain('INFO No bpf progs found with type type=SchedCLS\n');
  });
});
