import { release } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { e2eSkipReason, NetnsPair, PwruProcess } from './netns.js';

// With raw tracepoint cookies (6.10+), tracepoints whose skb sits at the same argument share one
// raw_tp program and each link's cookie names its tracepoint: every event must still carry the
// name of the tracepoint that fired, not its group's first member.
const skip = e2eSkipReason();
const SAME_GROUP = ['net_dev_queue', 'net_dev_xmit', 'netif_receive_skb'];
const [major = 0, minor = 0] = release()
  .split('.')
  .map((x) => parseInt(x, 10));
const cookies = major > 6 || (major === 6 && minor >= 10);

describe.skipIf(skip !== undefined)('tracepoints sharing one raw_tp program', () => {
  let net: NetnsPair;
  beforeAll(() => {
    net = new NetnsPair();
  }, 60_000);
  afterAll(() => net?.destroy());

  it('name each event by the tracepoint that fired, with one program for the three', async () => {
    const p = new PwruProcess([
      '--backend=tracepoint',
      `--filter-func=^(${SAME_GROUP.join('|')})$`,
      '--filter-skb-expr',
      'skb->dev->ifindex == 1',
      'icmp',
    ]);
    try {
      await p.ready();
      net.exec(net.nsA, ['busybox', 'ping', '-c1', '-W1', '127.0.0.1']);
      const all = new RegExp(SAME_GROUP.map((f) => `(?=[\\s\\S]*\\(icmp\\)\\s+${f}$)`).join(''), 'm');
      const seen = await p.waitFor(all, 8000);
      expect(await p.stop()).toBe(0);
      if (!seen) throw new Error(`expected ${SAME_GROUP.join(', ')} in:\n${p.stdout}\nstderr:\n${p.stderr}`);
      // One program (6.10+ shares it) or one per tracepoint (older kernels), and a link each.
      expect(p.held.progs.length).toBe(cookies ? 1 : SAME_GROUP.length);
      expect(p.held.links.length).toBe(SAME_GROUP.length);
    } finally {
      p.child.kill('SIGKILL');
    }
  });
});
