import { type Btf, funcSignature } from 'btf-parser';
import { expect, it } from 'vitest';
import { eventLayout, type EventSections } from '../src/event.js';
import type { KernelLayout } from '../src/generate/layout.js';
import { LoaderSession } from '../src/kernel/loader-session.js';
import { planTrace } from '../src/plan/programs.js';
import { returnFormats } from '../src/plan/return-probes.js';

/**
 * Functions with each kind of return value pwru prints (int, pointer, enum, bool, and a void
 * one: kfree_skb_reason up to 6.10, sk_skb_reason_drop from 6.11), with their skb argument's
 * position; the ones a kernel lacks are left out.
 */
const FUNCTIONS: ReadonlyArray<[string, number]> = [
  ['nf_hook_slow', 1],
  ['ip_rcv_core', 1],
  ['napi_gro_receive', 2],
  ['skb_partial_csum_set', 1],
  ['kfree_skb_reason', 1],
  ['sk_skb_reason_drop', 2],
];

/**
 * `--output-return`: entry programs that store their event and the return programs that read it
 * back must pass the verifier, for the kprobe backend everywhere and for fentry/fexit where the
 * kernel loads trampolines (the test VM; this development machine refuses them).
 */
export function returnVerifierTests(
  btf: Btf,
  kernel: KernelLayout,
  combos: ReadonlyArray<[string, EventSections]>,
): void {
  const functions = FUNCTIONS.filter(([n]) => btf.findType(n, 'func') !== undefined).map(([name, position]) => ({
    name,
    position,
  }));
  // Return programs match their entries by bpf_get_func_ip (Linux 5.15+); without it pwru
  // refuses --output-return before loading anything.
  const noFuncIp =
    btf.findType('bpf_func_id', 'enum') !== undefined && !new LoaderSession(btf, 10).haveFuncIp()
      ? 'this kernel has no bpf_get_func_ip helper (Linux >= 5.15), which --output-return needs'
      : undefined;
  for (const [what, sections] of combos) {
    const title = `--output-return, ${what}: kprobe and kprobe-multi entries and returns, and fentry + fexit where trampolines load`;
    it.skipIf(noFuncIp !== undefined)(noFuncIp ? `${title} — skipped: ${noFuncIp}` : title, () => {
      const layout = eventLayout({ ...sections, ret: true });
      const session = new LoaderSession(btf, 10);
      try {
        session.createMaps({ ringBytes: 1 << 16, stacks: sections.stack, returns: { eventSize: layout.size } });
        const common = {
          layout,
          kernel,
          filters: { mark: 0, mask: 0, netns: 0, ifindex: 0 },
          fragments: [],
          functions,
          haveFuncIp: session.haveFuncIp(),
          returns: returnFormats(btf, [], functions),
        };
        const kp = planTrace({ ...common, backend: 'kprobe' });
        expect(kp.programs.some((p) => p.kind === 'kretprobe')).toBe(true);
        for (const p of kp.programs) expect(() => session.load(p)).not.toThrow();
        // kprobe-multi programs load (and verify) even where the kernel cannot attach them.
        const km = planTrace({ ...common, backend: 'kprobe-multi' });
        expect(km.programs.some((p) => p.kind === 'kprobe-multi-return')).toBe(true);
        for (const p of km.programs) expect(() => session.load(p)).not.toThrow();
        if (session.features().fentry) {
          const signatures = new Map(
            functions.map((f) => [
              f.name,
              { btfId: btf.typeByName(f.name, 'func').id, argCount: funcSignature(btf, f.name).params.length },
            ]),
          );
          const fe = planTrace({ ...common, backend: 'fentry', signatures });
          // One fexit per function that returns something (void ones have none).
          const nonVoid = functions.filter((f) => funcSignature(btf, f.name).returnType !== 0);
          expect(fe.programs.filter((p) => p.kind === 'fexit').length).toBe(nonVoid.length);
          for (const p of fe.programs) expect(() => session.load(p)).not.toThrow();
        }
      } finally {
        session.close();
      }
    });
  }
}
