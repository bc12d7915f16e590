import { existsSync, readFileSync } from 'node:fs';
import { Btf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { SkBuffCtxOffset, XdpAction, XdpMdOffset } from './context.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';

describe.skipIf(!existsSync(VMLINUX))('uapi context tables agree with the running kernel', () => {
  const btf = Btf.parse(readFileSync(VMLINUX));
  const offsets = (name: string) =>
    Object.fromEntries(
      btf
        .typeByName(name, 'struct')
        .members.filter((m) => m.name)
        .map((m) => [m.name, m.bitOffset / 8]),
    );

  it('struct xdp_md', () => expect(XdpMdOffset).toEqual(offsets('xdp_md')));
  it('struct __sk_buff', () => expect(SkBuffCtxOffset).toEqual(offsets('__sk_buff')));
  it('enum xdp_action', () => {
    const values = Object.fromEntries(
      btf.typeByName('xdp_action', 'enum').values.map((v) => [v.name.replace('XDP_', ''), v.value]),
    );
    expect(XdpAction).toEqual(values);
  });
});
