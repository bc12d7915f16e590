import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKernelBtf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { replayReader } from '../../test/fake-session.js';
import type { KernelFeatures } from '../backend.js';
import { type Addr64, encodeEvent, EventKind, eventLayout, type PwruEvent } from '../event.js';
import { parseArgs } from '../flags/parse.js';
import type { KernelSession, MapOptions } from '../kernel/session.js';
import { Ksyms } from '../ksyms.js';
import { Logger } from '../log.js';
import type { PlannedProgram } from './programs.js';
import { ProgressBar } from '../progress.js';
import { prepare } from '../run.js';
import { ProgramType } from 'bpf-loader-ts';
import { formatReturn } from '../output/retval.js';
import { bpfProgReturnFormat } from './return-probes.js';
import { run } from '../run-cli.js';
import { trace, type TraceEvent } from '../trace.js';

let skip: string | undefined;
try {
  loadKernelBtf();
  Ksyms.load();
} catch (e) {
  skip = (e as Error).message;
}

const ALL: KernelFeatures = {
  kprobes: true,
  kprobeMulti: false,
  availableFilterFunctions: false,
  tpBtf: true,
  fentry: true,
};

/** A kernel session that records what pwru asks of it and replays `records` once. */
function fakeSession(
  features: Partial<KernelFeatures>,
  records: (plan: PlannedProgram[]) => Uint8Array[] = () => [],
  funcIp = true,
) {
  const planned: PlannedProgram[] = [];
  const maps: MapOptions[] = [];
  const s: KernelSession = {
    features: () => ({ ...ALL, ...features }),
    haveFuncIp: () => funcIp,
    createMaps: (o) => void maps.push(o),
    load: (p) => (planned.push(p), { planned: p }),
    attach: async (p, progress) => {
      const n = 'functions' in p.planned.attach ? p.planned.attach.functions.length : 1;
      progress(n);
      return { attachments: [{ count: n, detach: async (done) => done(n) }], ignored: 0 };
    },
    reader: () => replayReader(() => records(planned)),
    lost: () => 0,
    stack: () => [],
    close: () => {},
  };
  return { session: s, planned, maps };
}

const log = new Logger(() => {});
// Each kernel has one of the two drop functions (6.11+ inlines kfree_skb_reason): both return void.
const FUNCS = ['--filter-func', '(nf_hook_slow|kfree_skb_reason|sk_skb_reason_drop|ip_rcv_core)'];
const DROP =
  skip === undefined && loadKernelBtf().findType('kfree_skb_reason', 'func')
    ? 'kfree_skb_reason'
    : 'sk_skb_reason_drop';

describe.skipIf(skip !== undefined)('--output-return in prepare() and run()', () => {
  it('is refused with the tracepoint backend, chosen or picked', () => {
    for (const argv of [['--output-return'], ['--output-return', '--backend=tracepoint']]) {
      const { session } = fakeSession({ kprobes: false, fentry: false });
      expect(() => prepare(parseArgs(argv).options, session, log, undefined)).toThrow(
        '--output-return needs the kprobe, kprobe-multi or fentry backend: tracepoints have no return value (pick one with --backend)',
      );
    }
  });

  it('needs bpf_get_func_ip', () => {
    const { session } = fakeSession({}, undefined, false);
    expect(() =>
      prepare(parseArgs(['--output-return', '--backend=kprobe', ...FUNCS]).options, session, log, undefined),
    ).toThrow(/bpf_get_func_ip helper \(Linux 5\.15\+\)/);
  });

  it('kprobe: adds the return section to every event and a kretprobe on the functions that return a value', () => {
    const { session } = fakeSession({});
    const { plan, returns } = prepare(
      parseArgs(['--output-return', '--backend=kprobe', ...FUNCS]).options,
      session,
      log,
      undefined,
    );
    expect(plan.layout.ret).toBeGreaterThan(0);
    const ret = plan.programs.filter((p) => p.kind === 'kretprobe');
    expect(ret).toHaveLength(1);
    expect(ret[0]!.attach.type === 'kretprobe' && ret[0]!.attach.functions.map((f) => f.name).sort()).toEqual([
      'ip_rcv_core',
      'nf_hook_slow',
    ]);
    expect(returns?.get('nf_hook_slow')).toEqual({ kind: 'int', size: 4, signed: true });
    expect(returns?.get(DROP)).toEqual({ kind: 'void' });
    expect(plan.targets).toBe(3 + 2);
  });

  it('fentry: one fexit per function that returns a value', () => {
    const { session } = fakeSession({});
    const { plan } = prepare(
      parseArgs(['--output-return', '--backend=fentry', ...FUNCS]).options,
      session,
      log,
      undefined,
    );
    expect(plan.programs.filter((p) => p.kind === 'fentry')).toHaveLength(3);
    expect(
      plan.programs
        .filter((p) => p.kind === 'fexit')
        .map((p) => p.attach.type === 'fexit' && p.attach.function.name)
        .sort(),
    ).toEqual(['ip_rcv_core', 'nf_hook_slow']);
  });

  it('names every program uniquely, in at most 15 characters (the kernel limit), also with skb tracking', () => {
    for (const backend of ['kprobe', 'fentry']) {
      const { session } = fakeSession({});
      const { plan, track } = prepare(
        parseArgs(['--output-return', `--backend=${backend}`, '--filter-track-skb', ...FUNCS]).options,
        session,
        log,
        undefined,
      );
      const names = [...plan.programs.map((p) => p.name), ...(track?.trackers.map((t) => t.name) ?? [])];
      expect(track?.trackers.length).toBeGreaterThan(0);
      expect(new Set(names).size).toBe(names.length);
      for (const n of names) expect(n.length).toBeLessThanOrEqual(15);
    }
  });

  it('run: creates the return maps and prints a return event as `function = value`', async () => {
    const ksyms = Ksyms.load();
    const addr = ksyms.addressesOf('nf_hook_slow')[0]!;
    const dir = mkdtempSync(join(tmpdir(), 'pwru-ret-'));
    const outPath = join(dir, 'out');
    const out = openSync(outPath, 'w');
    const { options } = parseArgs([
      '--output-return',
      '--backend=kprobe',
      '--output-meta=false',
      '--output-tuple=false',
      '--output-limit-lines',
      '2',
      ...FUNCS,
    ]);
    let layoutSize = 0;
    const { session, maps } = fakeSession({}, () => {
      const entry: PwruEvent = {
        skb: { hi: 0xffff8881, lo: 0x00001000 },
        addr,
        ts: 1,
        p2: 0,
        p3: 0,
        pid: 0,
        cpu: 0,
        site: 0,
        kind: EventKind.Kprobe,
      };
      const retval: Addr64 = { hi: 0, lo: 0xffffffff };
      const layout = eventLayout({
        meta: false,
        cb: false,
        tuple: false,
        tunnel: false,
        stack: false,
        caller: false,
        ret: true,
      });
      layoutSize = layout.size;
      return [encodeEvent(entry, layout), encodeEvent({ ...entry, kind: EventKind.Return, cpu: 1, retval }, layout)];
    });
    const code = await run(options, session, {
      log,
      out,
      signal: new AbortController().signal,
      progress: (n: number) => new ProgressBar(n, () => {}, false),
    });
    closeSync(out);
    expect(code).toBe(0);
    expect(maps[0]?.returns).toEqual({ eventSize: layoutSize });
    expect(readFileSync(outPath, 'utf8').split('\n').slice(1, 3)).toEqual([
      '0xffff888100001000 0   <empty>:0        nf_hook_slow',
      '0xffff888100001000 1   <empty>:0        nf_hook_slow = -1 (EPERM)',
    ]);
  });
});

describe.skipIf(skip !== undefined)('--output-return in the trace() API', () => {
  it('gives return events the return and return_value fields of --output-json', async () => {
    const addr = Ksyms.load().addressesOf('ip_rcv_core')[0]!;
    const { session } = fakeSession({}, (planned) => {
      expect(planned.some((p) => p.kind === 'kretprobe')).toBe(true);
      const layout = eventLayout({
        meta: false,
        cb: false,
        tuple: false,
        tunnel: false,
        stack: false,
        caller: false,
        ret: true,
      });
      const entry: PwruEvent = {
        skb: { hi: 0xffff8881, lo: 0x00001000 },
        addr,
        ts: 1,
        p2: 0,
        p3: 0,
        pid: 0,
        cpu: 0,
        site: 0,
        kind: EventKind.Kprobe,
      };
      return [
        encodeEvent(entry, layout),
        encodeEvent({ ...entry, kind: EventKind.Return, retval: { hi: 0, lo: 0 } }, layout),
      ];
    });
    const events: TraceEvent[] = [];
    for await (const ev of trace(
      {
        backend: 'kprobe',
        outputReturn: true,
        outputMeta: false,
        outputTuple: false,
        outputLimitLines: 2,
        filterFunc: 'ip_rcv_core',
      },
      { session },
    ))
      events.push(ev);
    expect(events.map((e) => [e.func, e.return, e.return_value])).toEqual([
      ['ip_rcv_core', undefined, undefined],
      ['ip_rcv_core', 'NULL', '0x0'],
    ]);
    expect(events[1]!.raw.kind).toBe(EventKind.Return);
  });
});

describe.skipIf(skip !== undefined)('--output-return with --filter-trace-tc/-xdp', () => {
  const LOADED = [
    {
      id: 12,
      type: ProgramType.SCHED_CLS,
      name: 'cls',
      tag: '98075f36efc813b3',
      functions: ['tc_main', 'a_tc_helper'],
    },
    { id: 13, type: ProgramType.XDP, name: 'xdp', tag: '31205a4510f2c168', functions: ['xdp_main', 'a_xdp_helper'] },
  ];
  const withPrograms = (features: Partial<KernelFeatures>): KernelSession => ({
    ...fakeSession(features).session,
    bpfPrograms: () => LOADED,
  });

  it('adds one fexit per traced program next to its fentry, and prints verdicts by name', () => {
    const { plan, returns } = prepare(
      parseArgs(['--output-return', '--trace-only-bpf']).options,
      withPrograms({ kprobes: false }),
      log,
      undefined,
    );
    const bpf = plan.programs.filter((p) => p.attach.type === 'bpf-prog');
    expect(
      bpf.map((p) => [
        p.kind,
        p.attach.type === 'bpf-prog' && p.attach.mode,
        p.attach.type === 'bpf-prog' && p.attach.target.hook,
      ]),
    ).toEqual([
      ['fentry', 'fentry', 'tc'],
      ['fentry', 'fentry', 'xdp'],
      ['fexit', 'fexit', 'tc'],
      ['fexit', 'fexit', 'xdp'],
    ]);
    // The tracers store their events for the fexit programs.
    for (const p of bpf.filter((x) => x.kind === 'fentry'))
      expect(p.insns.some((x) => x.comment?.startsWith('--output-return'))).toBe(true);
    expect(returns?.format('bpf_prog_98075f36efc813b3_tc_main[bpf](tc)', { hi: 0, lo: 2 }).text).toBe('TC_ACT_SHOT');
    expect(returns?.format('bpf_prog_31205a4510f2c168_xdp_main[bpf](xdp)', { hi: 0, lo: 2 }).text).toBe('XDP_PASS');
  });

  it('needs no kernel-function backend with --trace-only-bpf, but still refuses tracepoints otherwise', () => {
    expect(() =>
      prepare(
        parseArgs(['--output-return', '--filter-trace-tc']).options,
        withPrograms({ kprobes: false }),
        log,
        undefined,
      ),
    ).toThrow(/tracepoints have no return value/);
  });

  it("names every tc verdict and the kernel's enum xdp_action", () => {
    const btf = loadKernelBtf();
    const tc = bpfProgReturnFormat('tc', btf);
    expect([-1, 0, 2, 7].map((v) => formatReturn(tc, { hi: 0, lo: v >>> 0 }).text)).toEqual([
      'TC_ACT_UNSPEC',
      'TC_ACT_OK',
      'TC_ACT_SHOT',
      'TC_ACT_REDIRECT',
    ]);
    const xdp = bpfProgReturnFormat('xdp', btf);
    expect([0, 1, 2, 3, 4].map((v) => formatReturn(xdp, { hi: 0, lo: v }).text)).toEqual([
      'XDP_ABORTED',
      'XDP_DROP',
      'XDP_PASS',
      'XDP_TX',
      'XDP_REDIRECT',
    ]);
  });
});
