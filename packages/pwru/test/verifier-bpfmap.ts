import { funcSignature, loadKernelBtf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend.js';
import { eventLayout } from '../src/event.js';
import { bpfMapFields } from '../src/generate/bpfmap.js';
import { kernelLayoutFromBtf } from '../src/generate/btf-layout.js';
import { parseArgs } from '../src/flags/parse.js';
import { LoaderSession } from '../src/kernel/loader-session.js';
import { planTrace } from '../src/plan/programs.js';
import { planTracking } from '../src/plan/skb-tracking.js';

/** Hash map functions (one per operation) and a generic helper every kernel with BPF has. */
const MAP_FUNCTIONS = ['htab_map_update_elem', 'htab_map_lookup_elem', 'htab_map_delete_elem', 'bpf_map_lookup_elem'];

/**
 * `--output-bpfmap`: the programs on bpf map functions (key and value copies bounded to 256
 * bytes, the lookup's parked entry and its return program) must pass the verifier, for kprobes
 * everywhere and fentry/fexit where the kernel loads trampolines.
 */
export function bpfmapVerifierSuite(kernelName: string): void {
  // The lookup's return program matches its entry by bpf_get_func_ip (Linux 5.15+); without it
  // pwru refuses --output-bpfmap before loading anything.
  const skip =
    process.getuid?.() !== 0
      ? 'needs root'
      : loadKernelBtf().findType('bpf_func_id', 'enum')?.kind === 'enum' &&
          !new LoaderSession(loadKernelBtf(), 10).haveFuncIp()
        ? 'this kernel has no bpf_get_func_ip helper (Linux >= 5.15), which --output-bpfmap needs'
        : undefined;
  describe.skipIf(skip !== undefined)(
    `--output-bpfmap programs pass the ${kernelName} verifier${skip ? ` — skipped: ${skip}` : ''}`,
    () => {
      it('update, lookup (entry and return) and delete programs, with the event sections around them', () => {
        const btf = loadKernelBtf();
        const kernel = kernelLayoutFromBtf(btf);
        const names = MAP_FUNCTIONS.filter((n) => btf.findType(n, 'func') !== undefined);
        const opts = parseArgs(['--output-bpfmap', '--filter-non-skb-funcs', names.join(',')]).options;
        const layout = eventLayout({
          meta: true,
          cb: false,
          tuple: true,
          tunnel: false,
          stack: true,
          caller: true,
          bpfmap: true,
        });
        const session = new LoaderSession(btf, 10);
        try {
          session.createMaps({ ringBytes: 1 << 16, stacks: true, track: true, returns: { eventSize: layout.size } });
          const features = session.features();
          const signatures = new Map(
            names.map((n) => [
              n,
              { btfId: btf.typeByName(n, 'func').id, argCount: funcSignature(btf, n).params.length },
            ]),
          );
          const backends: Backend[] = ['kprobe', ...(features.fentry ? (['fentry'] as const) : [])];
          for (const backend of backends) {
            const track = planTracking({ opts, backend, features: { ...features, kprobes: true }, btf, kernel })!;
            const plan = planTrace({
              backend,
              layout,
              kernel,
              filters: { mark: 0, mask: 0, netns: 0, ifindex: 0 },
              fragments: [],
              functions: [],
              signatures,
              haveFuncIp: session.haveFuncIp(),
              track: track.gen,
              nonSkb: names.map((name) => ({ name, position: 1 })),
              bpfmap: bpfMapFields(btf),
            });
            const kinds = plan.programs.map((p) => p.kind);
            expect(kinds, backend).toContain(backend === 'kprobe' ? 'kretprobe' : 'fexit');
            for (const p of plan.programs) expect(() => session.load(p), `${backend} ${p.name}`).not.toThrow();
          }
        } finally {
          session.close();
        }
      });
    },
  );
}
