import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDnat, routeVirtualAddress } from './dnat.js';
import { e2eSkipReason, NetnsPair, PwruProcess } from './netns.js';

const esc = (s: string): string => s.replace(/[.[\]]/g, (c) => `\\${c}`);

/** What a backend's DNAT scenario runs with and expects. */
export interface TrackScenarioOptions {
  readonly backend: string;
  /** Extra pwru arguments (e.g. a `--filter-func` set, to keep emulated kprobe attach short). */
  readonly extra?: readonly string[];
  /** A function that must show the tracked skb last (the kprobe backends trace `kfree_skbmem`). */
  readonly lastFunc?: string;
  /** A non-skb function run on the packet's stack, for a `--filter-non-skb-funcs` case. */
  readonly nonSkbFunc?: string;
  readonly readyTimeoutMs?: number;
  /** How pwru is asked for the backend (default `--backend=<backend>`; `[]` for pwru's own pick). */
  readonly args?: readonly string[];
  /** The describe title's backend part (default `<backend> backend`). */
  readonly label?: string;
  /** Why this kernel cannot run it (the title says so). */
  readonly skip?: string;
}

/**
 * The scenario of issue 7: nsB DNATs a virtual address (10.232.<n>.3, routed from nsA through nsB)
 * to its own, and the pcap filter matches only the pre-NAT destination. The post-NAT tuple must be
 * absent without `--filter-track-skb` and present, on the same skb, with it.
 */
export function trackScenarios(o: TrackScenarioOptions): void {
  const skip = e2eSkipReason() ?? o.skip;
  describe.skipIf(skip !== undefined)(
    `skb tracking through DNAT (${o.label ?? `${o.backend} backend`})${skip ? ` — skipped: ${skip}` : ''}`,
    () => {
      let net: NetnsPair;
      let virtual: string;
      beforeAll(() => {
        net = new NetnsPair();
        virtual = routeVirtualAddress(net, 232, 3);
        addDnat(net, { chain: 'PREROUTING', destination: virtual, port: 8080 });
      }, 60_000); // namespaces, iptables (and its flavour probe) are slow on a busy machine
      afterAll(() => net?.destroy());

      /** Runs pwru around one SYN to the virtual address (nobody listens: nsB answers RST and frees it). */
      async function trace(flags: string[], until?: RegExp): Promise<{ p: PwruProcess; pre: RegExp; post: RegExp }> {
        const p = new PwruProcess([
          ...(o.args ?? [`--backend=${o.backend}`]),
          ...(o.extra ?? []),
          ...flags,
          `dst host ${virtual} and tcp`,
        ]);
        const pre = new RegExp(`^(0x[0-9a-f]+) .* ${esc(net.a)}:\\d+->${esc(virtual)}:8080\\(tcp\\) (\\S+)`, 'm');
        const post = new RegExp(`^(0x[0-9a-f]+) .* ${esc(net.a)}:\\d+->${esc(net.b)}:8080\\(tcp\\) (\\S+)`, 'm');
        try {
          await p.ready(o.readyTimeoutMs ?? 60_000);
          // The SYN is processed to its end (nsB's softirq runs in the sender's context) before connect() returns.
          net.connect(virtual, 8080);
          const seen = await p.waitFor(pre, 20_000);
          // Either what the case waits for, or (to show absence) a moment for late events to drain.
          await p.waitFor(until ?? post, until ? 20_000 : 2000);
          expect(await p.stop()).toBe(0);
          if (!seen) throw new Error(`expected the pre-NAT tuple in:\n${p.stdout}\nstderr:\n${p.stderr}`);
          return { p, pre, post };
        } finally {
          p.child.kill('SIGKILL');
        }
      }

      it('without --filter-track-skb the filter loses the packet once DNAT rewrites its destination', async () => {
        const { p, post } = await trace([]);
        expect(p.stdout).not.toMatch(post);
      }, 400_000);

      it('with --filter-track-skb the post-NAT tuple follows on the same skb', async () => {
        // On a kernel without kprobes or fentry the post-NAT events are marked: they fail the filter.
        const end = new RegExp(`${esc(net.b)}:8080\\(tcp\\) ${o.lastFunc ?? '\\S+'}( \\(tracked only\\))?$`, 'm');
        const { p, pre, post } = await trace(['--filter-track-skb'], end);
        const skb = pre.exec(p.stdout)![1]!;
        const after = p.stdout.split('\n').filter((l) => post.test(l));
        expect(after.length, `${p.stdout}\n${p.stderr}`).toBeGreaterThan(0);
        expect(after.every((l) => l.startsWith(`${skb} `))).toBe(true);
        if (o.lastFunc) expect(after.at(-1)).toMatch(new RegExp(` ${o.lastFunc}( \\(tracked only\\))?$`));
        expect(p.stderr).not.toMatch(/ERROR|skips a missing function at (kprobe|fentry) kfree_skbmem/);
      }, 400_000);

      if (o.nonSkbFunc) {
        const fn = o.nonSkbFunc;
        it(`--filter-non-skb-funcs ${fn} (no --filter-track-skb): reported with the skb its stack carries`, async () => {
          // A module function's name shows its module: nf_nat_setup_info[nf_nat].
          const line = new RegExp(` ${fn}(\\[\\w+\\])?$`, 'm');
          const { p, pre } = await trace(['--filter-non-skb-funcs', fn], line);
          const skb = pre.exec(p.stdout)![1]!;
          const lines = p.stdout.split('\n').filter((l) => line.test(l));
          expect(lines.length, `${p.stdout}\n${p.stderr}`).toBeGreaterThan(0);
          expect(lines.every((l) => l.startsWith(`${skb} `))).toBe(true);
        }, 400_000);
      }
    },
  );
}
