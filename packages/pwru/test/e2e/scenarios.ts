import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { e2eSkipReason, NetnsPair, PwruProcess, stillLoaded } from './netns.js';

const skip = e2eSkipReason();
const esc = (s: string): string => s.replace(/[.[\]]/g, (c) => `\\${c}`);

/**
 * Upstream pwru's CI scenarios against one backend. `drop` matches the drop function as that
 * backend shows it (`kfree_skb(...)` for the tracepoint backend, `kfree_skb_reason(...)` or
 * `sk_skb_reason_drop(...)` for kprobes); `before` must appear on an earlier line of the same flow
 * (`nf_hook_slow` with kprobes).
 */
export function scenarios(backend: string, drop: string, before?: string, extra: string[] = []): void {
describe.skipIf(skip !== undefined)(`pwru end to end (${backend} backend)`, () => {
  let net: NetnsPair;
  beforeAll(() => {
    net = new NetnsPair();
    net.exec(net.nsB, ['iptables', '-w', '10', '-I', 'INPUT', '1', '-p', 'tcp', '--dport', '8080', '-j', 'DROP']);
    net.exec(net.nsB, ['ip6tables', '-w', '10', '-I', 'INPUT', '1', '-p', 'tcp', '--dport', '8080', '-j', 'DROP']);
  });
  afterAll(() => net?.destroy());

  async function trace(args: string[], traffic: () => void, expected: RegExp): Promise<PwruProcess> {
    const p = new PwruProcess([`--backend=${backend}`, ...extra, ...args]);
    try {
      await p.ready();
      traffic();
      const seen = await p.waitFor(expected, 8000);
      expect(await p.stop()).toBe(0);
      if (!seen) throw new Error(`expected ${expected} in:\n${p.stdout}\nstderr:\n${p.stderr}`);
      return p;
    } finally {
      p.child.kill('SIGKILL');
    }
  }

  it('basic-ipv4: the tuple and kfree_skb(SKB_DROP_REASON_NETFILTER_DROP) for an iptables drop', async () => {
    const p = await trace([`dst host ${net.b} and port 8080`], () => net.connect(net.b, 8080), new RegExp(`${esc(net.a)}:\\d+->${esc(net.b)}:8080\\(tcp\\)\\s+${drop}\\(SKB_DROP_REASON_NETFILTER_DROP\\)`));
    expect(p.stdout.split('\n')[0]).toBe('SKB                CPU PROCESS          NETNS      MARK/x        IFACE       PROTO  MTU   LEN   TUPLE FUNC');
    // The interface is named although no process lives in the namespace (/run/netns via iproute2).
    expect(p.stdout.split('\n').find((l) => l.includes('SKB_DROP_REASON_NETFILTER_DROP'))).toContain(` ${net.vethB}:`);
    expect(p.stderr).toMatch(new RegExp(`INFO Attaching \\w+ via=${backend}\n`));
    expect(p.stderr).toMatch(/INFO Listening for events\.\.\n/);
    expect(p.stderr).toMatch(/INFO Received signal, exiting program\.\.\n/);
    // Every program and link it held is gone after exit.
    expect(p.held.progs.length).toBeGreaterThan(0);
    expect(p.held.links.length).toBeGreaterThan(0);
    // The kernel frees them after an RCU grace period: allow it a few seconds.
    let left = stillLoaded(p.held);
    for (let i = 0; i < 50 && left.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      left = stillLoaded(p.held);
    }
    expect(left).toEqual([]);
    if (before) {
      const lines = p.stdout.split('\n');
      const dropAt = lines.findIndex((l) => l.includes('SKB_DROP_REASON_NETFILTER_DROP'));
      expect(lines.slice(0, dropAt).some((l) => l.endsWith(` ${before}`))).toBe(true);
    }
  });

  it('basic-ipv6: the bracketed IPv6 tuple and the drop', async () => {
    await trace([`dst host ${net.b6} and port 8080`], () => net.connect(net.b6, 8080), new RegExp(`\\[${esc(net.b6)}\\]:8080\\(tcp\\)\\s+${drop}\\(SKB_DROP_REASON_NETFILTER_DROP\\)`));
  });

  it("advanced-ipv4: 'tcp[tcpflags] = tcp-syn'", async () => {
    await trace(['tcp[tcpflags] = tcp-syn'], () => net.connect(net.b, 8080), new RegExp(`${esc(net.b)}:8080\\(tcp\\)\\s+${drop}`));
  });

  it("advanced-ipv6: 'ip6[53] & 0x3f = 0x2' (SYN in an IPv6 packet)", async () => {
    await trace(['ip6[53] & 0x3f = 0x2'], () => net.connect(net.b6, 8080), new RegExp(`\\[${esc(net.b6)}\\]:8080\\(tcp\\)\\s+${drop}`));
  });

  it('--output-limit-lines stops after N events with exit 0', async () => {
    const p = new PwruProcess([`--backend=${backend}`, ...extra, '--output-limit-lines', '2', `dst host ${net.b} and port 8080`]);
    try {
      await p.ready();
      net.connect(net.b, 8080);
      const code = await Promise.race([p.exited, new Promise((r) => setTimeout(() => r('timeout'), 10_000))]);
      expect(code).toBe(0);
      expect(p.stdout.trimEnd().split('\n')).toHaveLength(3);
      expect(p.stderr).toMatch(/INFO Printed events, exiting program\.\. count=2\n/);
    } finally {
      p.child.kill('SIGKILL');
    }
  });

  it("--filter-skb-expr 'skb->dev->ifindex == 1' icmp (loopback ping)", async () => {
    await trace(['--filter-skb-expr', 'skb->dev->ifindex == 1', 'icmp'], () => net.exec(net.nsA, ['busybox', 'ping', '-c1', '-W1', '127.0.0.1']), /127\.0\.0\.1:0->127\.0\.0\.1:0\(icmp\)/);
  });

  it('--filter-netns + --filter-ifname lo icmp, resolved inside the namespace', async () => {
    const holder = spawn('ip', ['netns', 'exec', net.nsA, 'sleep', '60'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      await trace(['--filter-netns', `/run/netns/${net.nsA}`, '--filter-ifname', 'lo', 'icmp'], () => net.exec(net.nsA, ['busybox', 'ping', '-c1', '-W1', '127.0.0.1']), /lo:1 .*127\.0\.0\.1:0->127\.0\.0\.1:0\(icmp\)/);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('an L2-only filter (arp) sees ARP requests, with the non-IP tuple :0->:0()', async () => {
    const ping = (): void => {
      try {
        net.exec(net.nsA, ['busybox', 'ping', '-c1', '-W1', net.b.replace(/\.2$/, '.3')]);
      } catch {
        // Nobody answers: the ARP request is what we want.
      }
    };
    await trace(['arp and arp[7] = 1'], ping, / :0->:0\(\) /);
  });

  it('--output-json prints one object per event with the tuple', async () => {
    const p = await trace(['--output-json', `dst host ${net.b} and port 8080`], () => net.connect(net.b, 8080), new RegExp(`"func":"${drop}\\(SKB_DROP_REASON_NETFILTER_DROP\\)"`));
    const line = p.stdout.split('\n').find((l) => l.includes('SKB_DROP_REASON_NETFILTER_DROP'))!;
    const obj = JSON.parse(line);
    expect(obj.tuple).toMatchObject({ daddr: net.b, dport: 8080, proto: 6 });
  });
});
}
