import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { Helper } from 'bpf-asm-ts';
import { describe, expect, it } from 'vitest';
import { FeatureUnsupportedError } from '../errors.js';
import { MapType, ProgramType } from '../sys/generated/constants.js';
import {
  probeBtf,
  probeHelper,
  probeKernelBtf,
  probeLinkType,
  probeMapType,
  probeProgramType,
  probeTracefs,
  requireFeature,
} from './probes.js';

describe('feature probes on the running kernel', () => {
  it('program types this kernel loads are supported, with minimum versions', () => {
    for (const t of [
      ProgramType.SOCKET_FILTER,
      ProgramType.XDP,
      ProgramType.SCHED_CLS,
      ProgramType.RAW_TRACEPOINT,
      ProgramType.TRACING,
    ]) {
      const r = probeProgramType(t);
      expect(r, r.detail).toMatchObject({ supported: true });
      expect(r.minKernel).toMatch(/^\d+\.\d+$/);
    }
  });

  it('an unknown program type is unsupported, and requireFeature names it', () => {
    const r = probeProgramType(999 as ProgramType); // what an untyped caller could pass
    expect(r.supported).toBe(false);
    expect(() => requireFeature(r)).toThrow(FeatureUnsupportedError);
    expect(() => requireFeature(r)).toThrow(/program type 999 is not supported by this kernel/);
  });

  it('map types', () => {
    for (const t of [
      MapType.HASH,
      MapType.RINGBUF,
      MapType.QUEUE,
      MapType.PERF_EVENT_ARRAY,
      MapType.ARRAY_OF_MAPS,
      MapType.LPM_TRIE,
    ]) {
      expect(probeMapType(t), `map type ${t}`).toMatchObject({ supported: true });
    }
    expect(probeMapType(999).supported).toBe(false);
  });

  it('helpers per program type: the verifier decides', () => {
    expect(probeHelper(ProgramType.XDP, Helper.map_lookup_elem).supported).toBe(true);
    expect(probeHelper(ProgramType.SOCKET_FILTER, Helper.override_return).supported).toBe(false);
    expect(probeHelper(ProgramType.TRACING, Helper.ktime_get_ns).supported).toBe(true);
    // tracing programs are probed as tp_btf, where get_func_ip is refused (fentry/kprobe only)
    expect(probeHelper(ProgramType.TRACING, Helper.get_func_ip).supported).toBe(false);
  });

  it('results are cached (the same object comes back)', () => {
    expect(probeMapType(MapType.HASH)).toBe(probeMapType(MapType.HASH));
  });

  it('link types agree with what the kernel exposes', () => {
    const kprobePmu = existsSync('/sys/bus/event_source/devices/kprobe/type');
    expect(probeLinkType('kprobe').supported).toBe(kprobePmu);
    if (!kprobePmu) {
      console.warn('kprobe PMU absent: kprobe and kprobe-multi links are expected unsupported here');
      expect(probeLinkType('kprobe_multi').supported).toBe(false);
    }
    const tcx = probeLinkType('tcx');
    const [major, minor] = release().split('.').map(Number) as [number, number];
    if (major > 6 || (major === 6 && minor >= 6)) expect(tcx.supported, tcx.detail).toBe(true);
    const tracing = probeLinkType('tracing');
    if (!tracing.supported) console.warn(`fentry unsupported here: ${tracing.detail}`);
  });

  it('BTF loading and kernel BTF', () => {
    expect(probeBtf().supported).toBe(true);
    expect(probeKernelBtf().supported).toBe(existsSync('/sys/kernel/btf/vmlinux'));
  });

  it('tracefs probe reports why available_filter_functions is unusable', () => {
    const r = probeTracefs();
    if (!r.supported) expect(r.detail).toMatch(/EPERM|EACCES|ENOENT|tracefs|operation not permitted/i);
  });
});
