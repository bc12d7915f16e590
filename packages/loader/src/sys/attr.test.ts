import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BpftoolBtf, haveBpftoolBtf } from '../../test/bpftool-btf.js';
import * as attr from './attr.js';
import type { Layout } from './layout.js';
import { AttachType, BpfCommand, LinkType, MapType, ProgramType } from './generated/constants.js';

const available = haveBpftoolBtf() && existsSync('/sys/kernel/btf/vmlinux');
if (!available) console.warn('skipping layout checks: bpftool or /sys/kernel/btf/vmlinux missing');

describe.skipIf(!available)('attribute layouts match the running kernel BTF', () => {
  let btf: BpftoolBtf;
  beforeAll(() => {
    btf = new BpftoolBtf();
  });

  const layouts = Object.entries(attr).filter(
    (e): e is [string, Layout] => typeof e[1] === 'object' && e[1] !== null && 'fields' in e[1],
  );

  it.each(layouts.map(([n, l]) => [n, l] as const))('%s: every field has the kernel offset and size', (_n, layout) => {
    for (const [key, f] of Object.entries(layout.fields)) {
      const got = btf.member(layout.btfType, f.path);
      expect(got, `${layout.btfType} has no member ${f.path} (${key})`).toBeDefined();
      expect({ key, offset: f.offset, size: f.size }).toEqual({ key, offset: got!.offset, size: got!.size });
    }
  });

  it.each(layouts.map(([n, l]) => [n, l] as const))(
    '%s: passes no more bytes than the kernel struct has',
    (_n, layout) => {
      expect(layout.size).toBeLessThanOrEqual(btf.sizeOfNamed(layout.btfType));
    },
  );

  it('generated enum constants agree with the kernel enums', () => {
    const check = (cEnum: string, prefix: string, ts: Record<string, number>) => {
      const k = btf.enumValues(cEnum);
      for (const [name, value] of Object.entries(ts)) expect([name, k.get(prefix + name)]).toEqual([name, value]);
    };
    check('bpf_cmd', 'BPF_', BpfCommand);
    check('bpf_map_type', 'BPF_MAP_TYPE_', MapType);
    check('bpf_prog_type', 'BPF_PROG_TYPE_', ProgramType);
    check('bpf_attach_type', 'BPF_', AttachType);
    check('bpf_link_type', 'BPF_LINK_TYPE_', LinkType);
  });
});
