import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { link } from 'bpf-asm-ts';
import { Btf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { checkBpfmapBackend, GENERIC_MAP_HELPERS, isBpfMapFunction, withBpfMapFunctions } from './bpfmap.js';
import { BPFMAP, decodeEvent, encodeEvent, eventLayout, EventKind, type PwruEvent } from './event.js';
import { parseArgs } from './flags/parse.js';
import { bpfMapFields, bpfMapOp } from './generate/bpfmap.js';
import { kernelLayoutFromBtf } from './generate/btf-layout.js';
import { Logger } from './log.js';
import { planTrace } from './plan/programs.js';
import { planTracking } from './plan/skb-tracking.js';

const btf = Btf.parse(gunzipSync(readFileSync(new URL('../../btf/test/data/vmlinux-6.1.btf.gz', import.meta.url))));
const kernel = kernelLayoutFromBtf(btf);
const quiet = new Logger(() => undefined);
const SECTIONS = { meta: true, cb: false, tuple: true, tunnel: false, stack: false, caller: false };

describe('bpf map functions', () => {
  it('are *update_elem, *lookup_elem and *delete_elem taking a struct bpf_map * (or a BPF_CALL u64 map) first', () => {
    expect(bpfMapOp('htab_map_update_elem')).toBe('update');
    expect(bpfMapOp('__htab_map_lookup_elem')).toBe('lookup');
    expect(bpfMapOp('array_map_delete_elem')).toBe('delete');
    expect(bpfMapOp('ip_rcv')).toBeUndefined();
    expect(isBpfMapFunction(btf, 'htab_map_update_elem')).toBe(true);
    expect(isBpfMapFunction(btf, 'bpf_map_lookup_elem')).toBe(true); // BPF_CALL_2(u64 map, u64 key)
    expect(isBpfMapFunction(btf, 'ip_rcv')).toBe(false);
    // Matching names whose first argument is no map.
    expect(bpfMapOp('lookup_elem_raw')).toBe('lookup');
    expect(isBpfMapFunction(btf, 'lookup_elem_raw')).toBe(false);
    expect(isBpfMapFunction(btf, 'bpf_map_fd_sys_lookup_elem')).toBe(false);
  });

  it('struct bpf_map offsets come from BTF', () => {
    const f = bpfMapFields(btf);
    expect(f.name.size).toBe(16);
    expect(f.keySize.size).toBe(4);
    expect(f.valueSize.offset).toBe(f.keySize.offset + 4);
  });
});

describe('--output-bpfmap planning', () => {
  it('without bpf map functions among the non-skb functions, traces the generic helpers and the map functions JITed programs call', () => {
    const opts = parseArgs(['--output-bpfmap', '--filter-non-skb-funcs', 'nf_nat_setup_info']).options;
    const out = withBpfMapFunctions(opts, btf, quiet, () => [
      'bpf_ktime_get_ns',
      'htab_map_update_elem',
      'htab_map_lookup_elem',
      'foo_lookup_elem[mod]',
    ]);
    expect(out.filterNonSkbFuncs).toEqual([
      'nf_nat_setup_info',
      ...GENERIC_MAP_HELPERS,
      'htab_map_update_elem',
      'htab_map_lookup_elem',
    ]);
  });

  it('keeps the named bpf map functions as they are, and falls back to the generic helpers when the scan fails', () => {
    const named = parseArgs(['--output-bpfmap', '--filter-non-skb-funcs', 'htab_map_update_elem']).options;
    expect(withBpfMapFunctions(named, btf, quiet, () => ['array_map_update_elem'])).toBe(named);
    const logs: string[] = [];
    const out = withBpfMapFunctions(
      parseArgs(['--output-bpfmap']).options,
      btf,
      new Logger((l) => logs.push(l)),
      () => {
        throw new Error('no /proc/kcore');
      },
    );
    expect(out.filterNonSkbFuncs).toEqual([...GENERIC_MAP_HELPERS]);
    expect(logs.join('')).toMatch(
      /WARN --output-bpfmap: cannot read the JITed BPF programs; tracing the generic map helpers only error="no \/proc\/kcore"/,
    );
    expect(withBpfMapFunctions(parseArgs([]).options, btf, quiet)).toEqual(parseArgs([]).options);
  });

  it('fails on the tracepoint backend with one line naming what is missing', () => {
    expect(() =>
      checkBpfmapBackend('tracepoint', { kprobes: false, kprobeMulti: false, fentry: false } as never),
    ).toThrow(
      '--output-bpfmap is not available on this kernel: it probes bpf map functions with kprobes or fentry, and this kernel has neither (CONFIG_KPROBES off, BPF trampolines refused)',
    );
    expect(() =>
      checkBpfmapBackend('tracepoint', { kprobes: true, kprobeMulti: false, fentry: false } as never),
    ).toThrow(/use --backend=kprobe or --backend=fentry/);
    expect(() =>
      checkBpfmapBackend('kprobe', { kprobes: true, kprobeMulti: false, fentry: false } as never),
    ).not.toThrow();
  });

  it('gives each operation its own program, and lookups a return program (kretprobe, or fexit per function)', () => {
    const names = ['htab_map_update_elem', 'htab_map_lookup_elem', 'htab_map_delete_elem', 'ip_route_output_flow'];
    const opts = parseArgs(['--output-bpfmap', '--filter-non-skb-funcs', names.join(',')]).options;
    const track = planTracking({
      opts,
      backend: 'kprobe',
      features: { kprobes: true, kprobeMulti: true, fentry: true } as never,
      btf,
      kernel,
    })!;
    const layout = eventLayout({ ...SECTIONS, bpfmap: true });
    const common = {
      layout,
      kernel,
      filters: { mark: 0, mask: 0, netns: 0, ifindex: 0 },
      fragments: [],
      functions: [],
      haveFuncIp: true,
      track: track.gen,
      bpfmap: bpfMapFields(btf),
    };
    const nonSkb = names.map((name) => ({ name, position: 1 }));
    const kp = planTrace({ ...common, backend: 'kprobe', nonSkb });
    expect(
      kp.programs.map(
        (p) => `${p.name} ${p.kind} ${'functions' in p.attach ? p.attach.functions.map((f) => f.name).join(',') : ''}`,
      ),
    ).toEqual([
      'pwru_map_update kprobe htab_map_update_elem',
      'pwru_map_lookup kprobe htab_map_lookup_elem',
      'pwru_map_ret kretprobe htab_map_lookup_elem',
      'pwru_map_delete kprobe htab_map_delete_elem',
      'pwru_nonskb kprobe ip_route_output_flow',
    ]);
    expect(kp.targets).toBe(5);
    for (const p of kp.programs) expect(() => link(p.insns)).not.toThrow();
    const signatures = new Map(names.map((n) => [n, { btfId: btf.typeByName(n, 'func').id, argCount: 2 }]));
    const fe = planTrace({ ...common, backend: 'fentry', nonSkb, signatures });
    expect(fe.programs.map((p) => p.kind)).toEqual(['fentry', 'fentry', 'fexit', 'fentry', 'fentry']);
    expect(new Set(fe.programs.map((p) => p.name)).size).toBe(5);
    // Without the flag the same functions are plain non-skb functions in one program.
    const plain = planTrace({ ...common, layout: eventLayout(SECTIONS), backend: 'kprobe', nonSkb });
    expect(plain.programs.map((p) => p.name)).toEqual(['pwru_nonskb']);
  });
});

describe('the bpfmap event section', () => {
  it('is absent without the flag, so the record keeps its size', () => {
    expect(eventLayout(SECTIONS).bpfmap).toBe(-1);
    expect(eventLayout({ ...SECTIONS, bpfmap: true }).size).toBe(eventLayout(SECTIONS).size + BPFMAP.size);
  });

  it('round-trips id, name, real sizes, at most 256 key and value bytes, and a missing value', () => {
    const layout = eventLayout({ ...SECTIONS, bpfmap: true });
    const base: PwruEvent = {
      skb: { hi: 0xffff8881, lo: 0x1000 },
      addr: { hi: 0, lo: 0 },
      ts: 5,
      p2: 0,
      p3: 0,
      pid: 1,
      cpu: 0,
      site: 0,
      kind: EventKind.Kprobe,
    };
    const key = new Uint8Array(300).map((_, i) => i & 0xff);
    const ev = {
      ...base,
      bpfmap: {
        id: 42,
        name: 'pwru_test_map',
        keySize: 300,
        valueSize: 8,
        key,
        value: new Uint8Array([8, 7, 6, 5, 0, 0, 0, 0]),
      },
    };
    const back = decodeEvent(new DataView(encodeEvent(ev, layout).buffer), 0, layout).bpfmap!;
    expect(back).toMatchObject({ id: 42, name: 'pwru_test_map', keySize: 300, valueSize: 8 });
    expect([...back.key]).toEqual([...key.subarray(0, 256)]);
    expect([...back.value!]).toEqual([8, 7, 6, 5, 0, 0, 0, 0]);
    const del = decodeEvent(
      new DataView(encodeEvent({ ...ev, bpfmap: { ...ev.bpfmap, value: undefined as never } }, layout).buffer),
      0,
      layout,
    ).bpfmap!;
    expect(del.value).toBeUndefined();
    // An event of another function leaves the section zero: no map.
    expect(decodeEvent(new DataView(encodeEvent(base, layout).buffer), 0, layout).bpfmap).toBeUndefined();
  });
});
