import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { e2eSkipReason, PwruProcess, stillLoaded } from './netns.js';
import { runAsNobody, unprivilegedSkipReason } from './privileges.js';

// Inside the test VM (tools/vm; 6.1 by default, BPF_TS_VM_KERNEL=6.12 for 6.12), whose kernel
// allows fentry. The fentry backend with the whole default function set: tests with a few
// dozen functions never met the ones whose third argument the verifier will not let a program
// read from its context (6.1: dst_blackhole_neigh_lookup's `const void *daddr`; 6.12:
// sock_queue_rcv_skb_reason's `enum skb_drop_reason *`). Every function must load, or be
// skipped and counted when the kernel refuses it, never abort the run.
const skip = process.env.BPF_TS_VM ? e2eSkipReason() : 'runs only inside the fentry-capable test VM (BPF_TS_VM)';
if (skip) console.log(`skipped: fentry end-to-end tests ${skip}`);

/** Whether the running kernel has text symbol `fn`. */
function kernelHas(fn: string): boolean {
  try {
    return new RegExp(` [tT] ${fn}$`, 'm').test(readFileSync('/proc/kallsyms', 'latin1'));
  } catch {
    return false;
  }
}

/** Sends `n` UDP datagrams to 127.0.0.1:`port` (nobody listens: the kernel answers ICMP). */
async function sendUdp(port: number, n: number): Promise<void> {
  const s = createSocket('udp4');
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => s.send('pwru', port, '127.0.0.1', () => resolve()));
  s.close();
}

describe.skipIf(skip !== undefined || unprivilegedSkipReason() !== undefined)(
  'pwru --backend fentry as an ordinary user, on a kernel that has fentry',
  () => {
    it('says that privileges are missing, not that the kernel lacks trampolines', () => {
      const r = runAsNobody(['--backend=fentry', 'udp']);
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(
        /ERROR Failed to run pwru error="pwru needs root privileges .*: run it as root \(sudo\)"/,
      );
      expect(r.stderr).not.toMatch(/fentry trampoline is not available|needs Linux/);
    });
  },
);

describe.skipIf(skip !== undefined)('pwru --backend fentry (the kernel verifies one program per function)', () => {
  // 6.12 refused `enum skb_drop_reason *reason` (the function is 6.1+), 6.1 `const void *daddr`.
  it.each(['sock_queue_rcv_skb_reason', 'dst_blackhole_neigh_lookup'])(
    'loads %s, whose third parameter the context may not be read for',
    async (fn) => {
      if (!kernelHas(fn)) return void console.log(`skipped: this kernel has no ${fn}`);
      const p = new PwruProcess(['--backend=fentry', '--filter-func', fn, 'udp']);
      try {
        await p.ready(300_000);
        expect(p.stderr).toMatch(/INFO Attached ignored=0\n/);
        expect(await p.stop()).toBe(0);
        expect(p.stderr).not.toMatch(/ERROR/);
        expect(stillLoaded(p.held)).toEqual([]);
      } finally {
        p.child.kill('SIGKILL');
      }
    },
    400_000,
  );

  // The full set (about 1,500 verifier loads and trampolines, 6 minutes of CI's two cores under
  // TCG) runs on 6.1, the first kernel of the matrix with fentry; 6.12's refusal that the full set
  // found (sock_queue_rcv_skb_reason) is the targeted case above, which runs on every kernel.
  // 6.12 traces its full set with kprobe-multi in the kprobe-multi suites. BPF_TS_TEST_FENTRY_FULL_SET=1
  // runs it on any kernel (e.g. a new one added to the matrix).
  const fullSet = process.env.BPF_TS_VM === '6.1' || process.env.BPF_TS_TEST_FENTRY_FULL_SET === '1';
  it.skipIf(!fullSet)(
    'traces with the full default function set, skipping and counting what the kernel refuses (6.1)',
    async () => {
      const port = 40000 + (process.pid % 20000);
      const p = new PwruProcess([
        '--backend=fentry',
        '--debug',
        '--output-limit-lines',
        '3',
        `udp and dst port ${port}`,
      ]);
      try {
        await p.ready(1_500_000);
        const attached = /INFO Attached ignored=(\d+)\n/.exec(p.stderr);
        expect(attached, p.stderr.slice(-2000)).not.toBeNull();
        const ignored = Number(attached![1]);
        // Every ignored function is accounted for: the first reasons are printed under --debug.
        expect(p.stderr.match(/DEBUG Ignored target="fentry /g)?.length ?? 0).toBe(Math.min(ignored, 10));
        const planned = /DEBUG Generated programs backend=fentry programs=(\d+)/.exec(p.stderr);
        expect(Number(planned![1])).toBeGreaterThan(1000);
        expect(ignored).toBeLessThan(Number(planned![1]) / 10);
        for (let i = 0; i < 10 && p.child.exitCode === null; i++) {
          await sendUdp(port, 1);
          await new Promise((r) => setTimeout(r, 500));
        }
        const seen = await p.waitFor(new RegExp(`127\\.0\\.0\\.1:\\d+->127\\.0\\.0\\.1:${port}\\(udp\\)`), 60_000);
        expect(await p.exited).toBe(0);
        expect(seen, p.stdout).toBe(true);
        expect(p.stderr).not.toMatch(/ERROR/);
        expect(stillLoaded(p.held)).toEqual([]);
      } finally {
        p.child.kill('SIGKILL');
      }
    },
    2_400_000,
  );
});
