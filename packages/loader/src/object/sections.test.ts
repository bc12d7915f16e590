import { describe, expect, it } from 'vitest';
import { AttachType, MapType, ProgramType } from '../sys/generated/constants.js';
import { expandGlob } from './attach.js';
import { dataMapName, parseLegacyMap } from './maps.js';
import { PROG_F_SLEEPABLE, resolveSection } from './sections.js';

describe("resolveSection follows libbpf's SEC() names", () => {
  it.each([
    ['kprobe/tcp_v4_rcv', ProgramType.KPROBE, undefined, 'kprobe', 'tcp_v4_rcv'],
    ['kretprobe/tcp_v4_rcv', ProgramType.KPROBE, undefined, 'kretprobe', 'tcp_v4_rcv'],
    ['kprobe.multi/tcp_*', ProgramType.KPROBE, AttachType.TRACE_KPROBE_MULTI, 'kprobe.multi', 'tcp_*'],
    ['tp_btf/kfree_skb', ProgramType.TRACING, AttachType.TRACE_RAW_TP, 'tracing', 'kfree_skb'],
    ['fentry/tcp_v4_rcv', ProgramType.TRACING, AttachType.TRACE_FENTRY, 'tracing', 'tcp_v4_rcv'],
    ['fexit/tcp_v4_rcv', ProgramType.TRACING, AttachType.TRACE_FEXIT, 'tracing', 'tcp_v4_rcv'],
    ['tracepoint/skb/kfree_skb', ProgramType.TRACEPOINT, undefined, 'tracepoint', 'skb/kfree_skb'],
    ['raw_tp/sys_enter', ProgramType.RAW_TRACEPOINT, undefined, 'raw_tp', 'sys_enter'],
    ['tc/ingress', ProgramType.SCHED_CLS, AttachType.TCX_INGRESS, 'tcx', ''],
    ['tcx/egress', ProgramType.SCHED_CLS, AttachType.TCX_EGRESS, 'tcx', ''],
    ['tc', ProgramType.SCHED_CLS, undefined, undefined, ''],
    ['xdp', ProgramType.XDP, AttachType.XDP, 'xdp', ''],
    ['socket', ProgramType.SOCKET_FILTER, undefined, undefined, ''],
    ['perf_event', ProgramType.PERF_EVENT, undefined, undefined, ''],
    ['cgroup_skb/ingress', ProgramType.CGROUP_SKB, AttachType.CGROUP_INET_INGRESS, undefined, ''],
    ['lsm/file_open', ProgramType.LSM, AttachType.LSM_MAC, 'tracing', 'file_open'],
    ['iter/task', ProgramType.TRACING, AttachType.TRACE_ITER, undefined, 'task'],
    ['struct_ops/tcp_init', ProgramType.STRUCT_OPS, undefined, undefined, 'tcp_init'],
  ])('%s', (name, type, attachType, attach, target) => {
    const r = resolveSection(name)!;
    expect([r.type, r.attachType, r.attach, r.target]).toEqual([type, attachType, attach, target]);
  });

  it('marks sleepable variants and rejects unknown names', () => {
    expect(resolveSection('fentry.s/do_sys_open')!.flags).toBe(PROG_F_SLEEPABLE);
    expect(resolveSection('kprobes/x')).toBeUndefined();
    expect(resolveSection('xdp/foo')).toBeUndefined();
  });
});

describe('maps', () => {
  it('reads a legacy struct bpf_map_def', () => {
    const def = new Uint8Array(new Uint32Array([MapType.HASH, 4, 8, 128, 1]).buffer);
    expect(parseLegacyMap('legacy', def)).toMatchObject({
      type: MapType.HASH,
      keySize: 4,
      valueSize: 8,
      maxEntries: 128,
      flags: 1,
    });
    expect(() => parseLegacyMap('short', def.subarray(0, 12))).toThrow(/at least 20/);
  });

  it('names global-data maps as libbpf does', () => {
    expect(dataMapName('globals', '.rodata')).toBe('globals.rodata');
    expect(dataMapName('a_long_object_name', '.bss')).toBe('a_long_o.bss');
    expect(dataMapName('globals', '.data.tuning')).toBe('.data.tuning');
  });
});

describe('kprobe.multi globs', () => {
  it('match * and ? over the probeable functions, each name once, like libbpf', () => {
    const fns = ['do_sys_openat2', 'do_sys_open', 'do_sys_openat2', 'tcp_v4_rcv', 'do_sys_openat2x'];
    expect(expandGlob('do_sys_openat?', fns)).toEqual(['do_sys_openat2']);
    expect(expandGlob('do_sys_open*', fns)).toEqual(['do_sys_openat2', 'do_sys_open', 'do_sys_openat2x']);
    expect(() => expandGlob('nothing_*', fns)).toThrow(/no probeable kernel function matches nothing_\*/);
    expect(expandGlob('a.b', ['a.b', 'axb'])).toEqual(['a.b']);
  });
});
