import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iptables } from './kernel.js';
import { e2eSkipReason, NetnsPair, PwruProcess, stillLoaded } from './netns.js';

const skip = e2eSkipReason();
const esc = (s: string): string => s.replace(/[.[\]()]/g, (c) => `\\${c}`);

/** How a suite runs {@link scenarios} on one kernel (the VM suites take these from kernel.ts). */
export interface ScenarioRun {
  /** How pwru is asked for the backend (default `--backend=<backend>`; `[]` for pwru's own pick). */
  readonly args?: readonly string[];
  /** The describe title's backend part (default `<backend> backend`). */
  readonly label?: string;
  /** Why the run cannot happen on this kernel. */
  readonly skip?: string;
  /** Whether pwru holds BPF links (default true; per-function kprobes before 5.15 attach by ioctl). */
  readonly links?: boolean;
  /** The drop reason pwru prints after the function (default `(SKB_DROP_REASON_NETFILTER_DROP)`; empty before 5.17). */
  readonly reason?: string;
}

/**
 * Upstream pwru's CI scenarios against one backend. `dropFunc` matches the drop function as that
 * backend shows it (`kfree_skb` for the tracepoint backend, `kfree_skb_reason` or
 * `sk_skb_reason_drop` for kprobes, `kfree_skb` before 5.17); `before` must appear on an earlier
 * line of the same flow (`nf_hook_slow` with kprobes).
 */
export function scenarios(
  backend: string,
  dropFunc: string,
  before?: string,
  extra: string[] = [],
  run: ScenarioRun = {},
): void {
  const why = skip ?? run.skip;
  const backendArgs = run.args ?? [`--backend=${backend}`];
  // The drop as pwru prints it (function and reason), and a line ending with it.
  const drop = `${dropFunc}${esc(run.reason ?? '(SKB_DROP_REASON_NETFILTER_DROP)')}`;
  const dropLine = new RegExp(` ${drop}$`);
  describe.skipIf(why !== undefined)(
    `pwru end to end (${run.label ?? `${backend} backend`})${why ? ` — skipped: ${why}` : ''}`,
    () => {
      let net: NetnsPair;
      beforeAll(() => {
        net = new NetnsPair();
        const ipt = iptables((argv) => net.exec(net.nsB, argv));
        net.exec(net.nsB, [ipt.v4, '-w', '10', '-I', 'INPUT', '1', '-p', 'tcp', '--dport', '8080', '-j', 'DROP']);
        net.exec(net.nsB, [ipt.v6, '-w', '10', '-I', 'INPUT', '1', '-p', 'tcp', '--dport', '8080', '-j', 'DROP']);
      }, 60_000); // namespaces, iptables (and its flavour probe) are slow on a busy machine
      afterAll(() => net?.destroy());

      async function trace(args: string[], traffic: () => void, expected: RegExp): Promise<PwruProcess> {
        const p = new PwruProcess([...backendArgs, ...extra, ...args]);
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
        const p = await trace(
          [`dst host ${net.b} and port 8080`],
          () => net.connect(net.b, 8080),
          new RegExp(`${esc(net.a)}:\\d+->${esc(net.b)}:8080\\(tcp\\)\\s+${drop}$`, 'm'),
        );
        expect(p.stdout.split('\n')[0]).toBe(
          'SKB                CPU PROCESS          NETNS      MARK/x        IFACE       PROTO  MTU   LEN   TUPLE FUNC',
        );
        // The interface is named although no process lives in the namespace (/run/netns via iproute2).
        expect(p.stdout.split('\n').find((l) => dropLine.test(l))).toContain(` ${net.vethB}:`);
        expect(p.stderr).toMatch(new RegExp(`INFO Attaching \\w+(-\\w+)? via=${backend}\n`));
        expect(p.stderr).toMatch(/INFO Listening for events\.\.\n/);
        expect(p.stderr).toMatch(/INFO Received signal, exiting program\.\.\n/);
        // Every program and link it held is gone after exit.
        expect(p.held.progs.length).toBeGreaterThan(0);
        if (run.links !== false) expect(p.held.links.length).toBeGreaterThan(0);
        // The kernel frees them after an RCU grace period: allow it a few seconds.
        let left = stillLoaded(p.held);
        for (let i = 0; i < 50 && left.length > 0; i++) {
          await new Promise((r) => setTimeout(r, 100));
          left = stillLoaded(p.held);
        }
        expect(left).toEqual([]);
        if (before) {
          const lines = p.stdout.split('\n');
          const dropAt = lines.findIndex((l) => dropLine.test(l));
          expect(lines.slice(0, dropAt).some((l) => l.endsWith(` ${before}`))).toBe(true);
        }
      });

      it('basic-ipv6: the bracketed IPv6 tuple and the drop', async () => {
        await trace(
          [`dst host ${net.b6} and port 8080`],
          () => net.connect(net.b6, 8080),
          new RegExp(`\\[${esc(net.b6)}\\]:8080\\(tcp\\)\\s+${drop}$`, 'm'),
        );
      });

      it("advanced-ipv4: 'tcp[tcpflags] = tcp-syn'", async () => {
        await trace(
          ['tcp[tcpflags] = tcp-syn'],
          () => net.connect(net.b, 8080),
          new RegExp(`${esc(net.b)}:8080\\(tcp\\)\\s+${drop}`),
        );
      });

      it("advanced-ipv6: 'ip6[53] & 0x3f = 0x2' (SYN in an IPv6 packet)", async () => {
        await trace(
          ['ip6[53] & 0x3f = 0x2'],
          () => net.connect(net.b6, 8080),
          new RegExp(`\\[${esc(net.b6)}\\]:8080\\(tcp\\)\\s+${drop}`),
        );
      });

      it('--output-limit-lines stops after N events with exit 0', async () => {
        const p = new PwruProcess([
          ...backendArgs,
          ...extra,
          '--output-limit-lines',
          '2',
          `dst host ${net.b} and port 8080`,
        ]);
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
        await trace(
          ['--filter-skb-expr', 'skb->dev->ifindex == 1', 'icmp'],
          () => net.exec(net.nsA, ['busybox', 'ping', '-c1', '-W1', '127.0.0.1']),
          /127\.0\.0\.1:0->127\.0\.0\.1:0\(icmp\)/,
        );
      });

      it('--filter-netns + --filter-ifname lo icmp, resolved inside the namespace', async () => {
        const holder = spawn('ip', ['netns', 'exec', net.nsA, 'sleep', '60'], { stdio: 'ignore' });
        try {
          await new Promise((r) => setTimeout(r, 300));
          await trace(
            ['--filter-netns', `/run/netns/${net.nsA}`, '--filter-ifname', 'lo', 'icmp'],
            () => net.exec(net.nsA, ['busybox', 'ping', '-c1', '-W1', '127.0.0.1']),
            /lo:1 .*127\.0\.0\.1:0->127\.0\.0\.1:0\(icmp\)/,
          );
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
        const p = await trace(
          ['--output-json', `dst host ${net.b} and port 8080`],
          () => net.connect(net.b, 8080),
          new RegExp(`"func":"${drop}"`),
        );
        const line = p.stdout.split('\n').find((l) => new RegExp(`"func":"${drop}"`).test(l))!;
        const obj = JSON.parse(line);
        expect(obj.tuple).toMatchObject({ daddr: net.b, dport: 8080, proto: 6 });
      });
    },
  );
}
