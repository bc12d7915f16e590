import { describe, expect, it } from 'vitest';
import { PwruProcess } from './netns.js';

/**
 * pwru on a machine where tracefs is not mounted (a private mount namespace with every tracefs
 * and debugfs mount removed): it must still attach. Where the kernel has kprobes, pwru (root)
 * mounts tracefs itself, says so in one INFO line, and takes its function list from it (so
 * kprobe-multi stays selectable); without kprobes (tracepoint backend) nothing needs mounting.
 */
export function tracefsUnmountedScenario(kernelHasKprobes: boolean): void {
  describe('tracefs not mounted (private mount namespace)', () => {
    it(kernelHasKprobes
      ? 'pwru mounts tracefs, says so once, and attaches'
      : 'pwru attaches without mounting anything', async () => {
      const p = new PwruProcess(
        ['--filter-func', '^(ip_rcv|__netif_receive_skb|kfree_skb_reason|kfree_skb)$', 'udp and port 9'],
        { withoutTracefs: true },
      );
      try {
        await p.ready(300_000);
        expect(await p.stop()).toBe(0);
        const mounted =
          p.stderr.match(
            /INFO Mounted tracefs: it was not mounted, and kprobes need its function list path=\/sys\/kernel\/tracing\n/g,
          ) ?? [];
        expect(mounted).toHaveLength(kernelHasKprobes ? 1 : 0);
        expect(p.stderr).not.toContain('Failed to retrieve available ftrace functions');
        expect(p.stderr).toMatch(/INFO Attach/);
        expect(p.held.links.length + p.held.progs.length).toBeGreaterThan(0);
      } finally {
        p.child.kill('SIGKILL');
      }
    }, 400_000);
  });
}
