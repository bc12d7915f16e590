import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Btf } from './btf.js';
import { BtfBuilder } from './builder.js';
import { pwruSkbFunctions, skbFunctions, skbTracepoints } from './skb.js';
import { HOST_VMLINUX, dataBlob, hasHostBtf, hostBtf, nfConntrack61, vmlinux61 } from '../test/fixtures.js';
import { bpftoolDump, hasBpftool, readDump, type DumpedType } from '../test/bpftool.js';

/** A tiny kernel: one function per way of passing an skb. */
function miniKernel(): Btf {
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, { signed: true });
  const skb = b.addStruct('sk_buff', 232, [{ name: 'len', type: int, bitOffset: 0 }]);
  const other = b.addStruct('sock', 8, []);
  const p = b.addPtr(skb);
  const cp = b.addPtr(b.addConst(skb));
  const tp = b.addTypedef('skb_ptr_t', p);
  const pp = b.addPtr(p);
  const fn = (name: string, params: number[]): void => {
    b.addFunc(
      name,
      b.addFuncProto(
        int,
        params.map((type, i) => ({ name: `a${i}`, type })),
      ),
    );
  };
  fn('direct_first', [p]);
  fn('const_only', [int, cp]);
  fn('via_typedef', [tp]);
  fn('double_ptr', [pp]);
  fn('no_skb', [b.addPtr(other)]);
  fn('sixth', [int, int, int, int, int, p]);
  fn('two', [cp, int, p]);
  const voidp = b.addPtr(0);
  b.addTypedef(
    'btf_trace_kfree_skb',
    b.addPtr(
      b.addFuncProto(0, [
        { name: '', type: voidp },
        { name: '', type: p },
      ]),
    ),
  );
  b.addTypedef(
    'btf_trace_sched',
    b.addPtr(
      b.addFuncProto(0, [
        { name: '', type: voidp },
        { name: '', type: int },
      ]),
    ),
  );
  return Btf.parse(b.build());
}

describe('skbFunctions', () => {
  it('finds direct, const and typedef sk_buff pointers with 1-based positions', () => {
    const btf = miniKernel();
    const found = Object.fromEntries(
      skbFunctions(btf).map((f) => [f.name, f.params.map((p) => `${p.position}:${p.form}`)]),
    );
    expect(found).toEqual({
      direct_first: ['1:direct'],
      const_only: ['2:const'],
      via_typedef: ['1:typedef'],
      sixth: ['6:direct'],
      two: ['1:const', '3:direct'],
    });
  });

  it("pwru's view keeps non-const struct sk_buff * at positions 1..5", () => {
    expect(Object.fromEntries(pwruSkbFunctions(miniKernel()))).toEqual({ direct_first: 1, two: 3 });
  });

  it('finds tracepoints whose btf_trace_ typedef takes an skb, positions after the context', () => {
    expect(skbTracepoints(miniKernel()).map((t) => [t.name, t.params[0]!.position])).toEqual([['kfree_skb', 1]]);
  });
});

/** skb functions computed from bpftool's text dump, independently of our parser. */
function oracle(
  types: Map<number, DumpedType>,
  firstId: number,
): { direct: Set<string>; constOnly: Set<string>; pwru: Set<string>; tracepoints: Set<string> } {
  const skbs = new Set([...types].filter(([, t]) => t.kind === 'STRUCT' && t.name === 'sk_buff').map(([id]) => id));
  const form = (id: number): string | undefined => {
    const p = types.get(id);
    if (p?.kind !== 'PTR') return undefined;
    const target = types.get(p.ref);
    if (target?.kind === 'STRUCT' && skbs.has(p.ref)) return 'direct';
    if (target?.kind === 'CONST' && skbs.has(target.ref)) return 'const';
    return undefined;
  };
  const direct = new Set<string>();
  const constOnly = new Set<string>();
  const pwru = new Set<string>();
  for (const [id, t] of types) {
    if (id < firstId || t.kind !== 'FUNC') continue;
    const forms = types.get(t.ref)!.items.map(([, ty]) => form(ty));
    if (forms.includes('direct')) direct.add(t.name);
    else if (forms.includes('const')) constOnly.add(t.name);
    if (forms.slice(0, 5).includes('direct')) pwru.add(t.name);
  }
  const tracepoints = new Set<string>();
  for (const [id, t] of types) {
    if (id < firstId || t.kind !== 'TYPEDEF' || !t.name.startsWith('btf_trace_')) continue;
    const ptr = types.get(t.ref);
    const proto = ptr?.kind === 'PTR' ? types.get(ptr.ref) : undefined;
    if (proto?.kind !== 'FUNC_PROTO') continue;
    if (proto.items.slice(1).some(([, ty]) => form(ty) !== undefined))
      tracepoints.add(t.name.slice('btf_trace_'.length));
  }
  return { direct, constOnly, pwru, tracepoints };
}

describe.skipIf(!hasHostBtf)('skb functions of this machine', () => {
  const btf = hasHostBtf ? hostBtf() : undefined!;

  it.skipIf(release() !== '6.18.44-fc-v669')('counts 2073 non-const, 351 const-only, 17 only beyond position 5', () => {
    const all = skbFunctions(btf);
    const direct = all.filter((f) => f.params.some((p) => p.form === 'direct'));
    const constOnly = all.filter((f) => f.params.every((p) => p.form === 'const'));
    expect(direct.length).toBe(2073);
    expect(constOnly.length).toBe(351);
    expect(direct.length - pwruSkbFunctions(btf).size).toBe(17);
    expect(skbTracepoints(btf).length).toBe(30);
  });

  it('skbTracepoints with a name match gives exactly the matching part of the full list', () => {
    const all = skbTracepoints(btf);
    const wanted = new Set(['kfree_skb', 'net_dev_queue', 'sched_switch', 'no_such_tracepoint']);
    const some = skbTracepoints(btf, { match: (n) => wanted.has(n) });
    expect(some).toEqual(all.filter((t) => wanted.has(t.name)));
    expect(some.map((t) => t.name).sort()).toEqual(['kfree_skb', 'net_dev_queue']);
  });

  it.skipIf(!hasBpftool)('agrees with skb functions read from bpftool', () => {
    const want = oracle(readDump(bpftoolDump(HOST_VMLINUX)), 1);
    const all = skbFunctions(btf);
    expect(new Set(all.filter((f) => f.params.some((p) => p.form === 'direct')).map((f) => f.name))).toEqual(
      want.direct,
    );
    expect(new Set(all.filter((f) => f.params.every((p) => p.form === 'const')).map((f) => f.name))).toEqual(
      want.constOnly,
    );
    expect(new Set(pwruSkbFunctions(btf).keys())).toEqual(want.pwru);
    expect(new Set(skbTracepoints(btf).map((t) => t.name))).toEqual(want.tracepoints);
  });
});

describe('skb functions of Debian 6.1 and its nf_conntrack module', () => {
  it('finds kfree_skb_reason in vmlinux and only the module’s own functions in split BTF', () => {
    const vm = skbFunctions(vmlinux61());
    expect(vm.find((f) => f.name === 'kfree_skb_reason')?.params).toEqual([
      { position: 1, name: 'skb', form: 'direct' },
    ]);
    const mod = nfConntrack61();
    const fns = skbFunctions(mod);
    for (const f of fns) expect(f.id).toBeGreaterThanOrEqual(mod.firstTypeId);
    expect(fns.find((f) => f.name === 'nf_conntrack_update')?.params).toEqual([
      { position: 2, name: 'skb', form: 'direct' },
    ]);
    expect(skbFunctions(mod, { includeBase: true }).length).toBe(vm.length + fns.length);
  });

  it.skipIf(!hasBpftool)('agrees with skb functions read from bpftool, for vmlinux and the module', () => {
    const dir = writeBlobs();
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const vmTypes = readDump(bpftoolDump(`${dir}/vmlinux.btf`));
    const vmWant = oracle(vmTypes, 1);
    const vm = skbFunctions(vmlinux61());
    expect(new Set(vm.filter((f) => f.params.some((p) => p.form === 'direct')).map((f) => f.name))).toEqual(
      vmWant.direct,
    );
    expect(new Set(pwruSkbFunctions(vmlinux61()).keys())).toEqual(vmWant.pwru);
    expect(new Set(skbTracepoints(vmlinux61()).map((t) => t.name))).toEqual(vmWant.tracepoints);
    const mod = nfConntrack61();
    const all = new Map([...vmTypes, ...readDump(bpftoolDump(`${dir}/mod.btf`, { base: `${dir}/vmlinux.btf` }))]);
    const modWant = oracle(all, mod.firstTypeId);
    expect(new Set(pwruSkbFunctions(mod).keys())).toEqual(modWant.pwru);
    expect(
      new Set(
        skbFunctions(mod)
          .filter((f) => f.params.every((p) => p.form === 'const'))
          .map((f) => f.name),
      ),
    ).toEqual(modWant.constOnly);
  });
});

function writeBlobs(): string {
  const dir = mkdtempSync(join(tmpdir(), 'btf-skb-'));
  writeFileSync(join(dir, 'vmlinux.btf'), dataBlob('vmlinux-6.1'));
  writeFileSync(join(dir, 'mod.btf'), dataBlob('nf_conntrack-6.1'));
  return dir;
}
