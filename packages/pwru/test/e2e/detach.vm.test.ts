import { describe, expect, it } from 'vitest';
import { e2eSkipReason, PwruProcess, stillLoaded } from './netns.js';

// Inside the test VM (tools/vm), whose 6.1 kernel has kprobes but not kprobe-multi: pwru attaches
// one kprobe per function, and the kernel removes them one at a time (about 20 s for 500 under
// emulation). A second Ctrl-C during that detach must say what pwru is waiting for, and pwru must
// still detach everything before it exits.
const skip = process.env.BPF_TS_VM ? e2eSkipReason() : 'runs only inside the kprobe test VM (BPF_TS_VM)';
if (skip) console.log(`skipped: detach end-to-end tests ${skip}`);

describe.skipIf(skip !== undefined)('a second Ctrl-C while pwru detaches many kprobes', () => {
  it('prints how many probes are left and why, then exits 0 with nothing attached', async () => {
    const p = new PwruProcess(['--backend=kprobe', '--filter-func', '(tcp|ip)_.*', 'udp and port 9']);
    try {
      await p.ready(600_000);
      const attached = /(\d+) \/ (\d+) \[/.exec(p.stderr);
      p.child.kill('SIGINT');
      const end = Date.now() + 60_000;
      while (!p.stderr.includes('Detaching kprobes...') && Date.now() < end)
        await new Promise((r) => setTimeout(r, 50));
      p.child.kill('SIGINT');
      while (!p.stderr.includes('Still detaching') && p.child.exitCode === null && Date.now() < end)
        await new Promise((r) => setTimeout(r, 50));
      expect(await p.exited).toBe(0);
      const status =
        /INFO Still detaching probes: (\d+) of (\d+) left after \d+ s.*; the kernel removes kprobes one at a time, each after an RCU grace period\. pwru exits once none is left/.exec(
          p.stderr,
        );
      expect(status, p.stderr.slice(-3000)).not.toBeNull();
      expect(Number(status![2])).toBe(Number(attached?.[1]));
      expect(Number(status![1])).toBeGreaterThan(0);
      expect(p.stderr).toMatch(/INFO Received signal, exiting program\.\./);
      expect(stillLoaded(p.held)).toEqual([]);
    } finally {
      p.child.kill('SIGKILL');
    }
  }, 900_000);
});
