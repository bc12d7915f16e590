import { execFileSync } from 'node:child_process';
import { release } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDnat } from './dnat.js';
import { backendRuns, titled, vmSkipReason } from './kernel.js';
import { NetnsPair, PwruProcess } from './netns.js';

// Inside the test VM (tools/vm/test.sh), with every backend the kernel has (kprobe, kprobe-multi,
// fentry): the boolean --filter-skb-expr, cast included, and --output-ct on a DNAT. The filter
// keeps only packets on B's veth whose conntrack entry was DNAT'ed, so ip_rcv (before
// PREROUTING, no entry yet) must never show, and the entry must carry both tuples. Three
// functions only: emulated CPUs attach slowly.
const vm = vmSkipReason();
if (!vm) {
  try {
    execFileSync('modprobe', ['-a', 'nf_nat', 'nft_chain_nat', 'xt_nat', 'iptable_nat'], { stdio: 'ignore' });
  } catch {
    // iptables asks the kernel to load what it needs anyway.
  }
} else console.log(`skipped: filter expressions and --output-ct with kprobes and fentry: ${vm}`);

interface Event {
  func: string;
  iface: string;
  ct?: {
    state: string;
    status: string[];
    orig?: { daddr: string; dport: number };
    reply?: { saddr: string; sport: number };
  };
}

for (const run of backendRuns()) {
  describe.skipIf((vm ?? run.skip) !== undefined)(
    titled(`--filter-skb-expr and --output-ct, ${run.label}`, vm ?? run.skip),
    () => {
      let net: NetnsPair;
      beforeAll(() => {
        net = new NetnsPair();
        addDnat(net, { chain: 'PREROUTING', port: 8080, toPort: 9090 });
      });
      afterAll(() => net?.destroy());

      it('shows only DNATed packets on one device, with both tuples', async () => {
        const expr = `skb->dev->name == "${net.vethB}" && skb->_nfct && ((struct nf_conn *)(skb->_nfct & ~7))->status & IPS_DST_NAT`;
        const p = new PwruProcess([
          ...run.args,
          '--filter-func',
          '^(ip_rcv|ip_local_deliver|tcp_v4_rcv)$',
          '--output-json',
          '--output-ct',
          '--filter-skb-expr',
          expr,
        ]);
        try {
          await p.ready(300_000);
          net.connect(net.b, 8080);
          expect(await p.waitFor(/"func":"tcp_v4_rcv"/, 20_000), p.stderr).toBe(true);
          expect(await p.stop()).toBe(0);
        } finally {
          p.child.kill('SIGKILL');
        }
        const events = p.stdout
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Event);
        expect(events.map((e) => e.func)).toContain('ip_local_deliver');
        for (const e of events) {
          expect(e.func).not.toBe('ip_rcv');
          expect(e.iface).toMatch(new RegExp(`^${net.vethB}:`));
          expect(e.ct?.status).toContain('DST_NAT');
          expect(e.ct).toMatchObject({ orig: { daddr: net.b, dport: 8080 }, reply: { saddr: net.b, sport: 9090 } });
        }
      }, 400_000);
    },
  );
}

// --output-netfilter with --output-ct, one pwru run per backend (the walkers are kprobes on each):
// a legacy iptables DROP in a user chain of filter/INPUT on B (every kernel), and on kernels
// whose nf_tables this host's tools drive (6.1+), a native nft drop in a user chain of table
// inet pwrutest and an iptables-nft DROP in a user chain of filter/OUTPUT on A. Conntrack is
// switched on by a ctstate rule in each, so every dropped SYN is NEW.
const nftOk = !release().startsWith('5.10');

interface NfEvent {
  func: string;
  netfilter?: { engine: string; family: string; hook: string; table: string; chain?: string; verdict?: string };
  ct?: { state: string; orig?: { dport: number } };
}

for (const run of backendRuns()) {
  describe.skipIf((vm ?? run.skip) !== undefined)(
    titled(`--output-netfilter with --output-ct, ${run.label}`, vm ?? run.skip),
    () => {
      let net: NetnsPair;
      beforeAll(() => {
        net = new NetnsPair();
        const legacy = (argv: string[]): string => net.exec(net.nsB, ['iptables-legacy', '-w', '10', ...argv]);
        legacy(['-N', 'PWRU_DROP']);
        legacy(['-A', 'PWRU_DROP', '-j', 'DROP']);
        legacy(['-A', 'INPUT', '-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'DROP']);
        legacy(['-A', 'INPUT', '-p', 'tcp', '--dport', '7001', '-j', 'PWRU_DROP']);
        if (nftOk) {
          const ruleset = [
            'table inet pwrutest {',
            '  chain pwru_user { drop; }',
            '  chain in { type filter hook input priority 10; ct state invalid drop; tcp dport 7002 jump pwru_user; }',
            '}',
          ].join('\n');
          execFileSync('ip', ['netns', 'exec', net.nsB, 'nft', '-f', '-'], { input: ruleset });
          const ipnft = (argv: string[]): string => net.exec(net.nsA, ['iptables-nft', '-w', '10', ...argv]);
          ipnft(['-N', 'PWRU_NFT']);
          ipnft(['-A', 'PWRU_NFT', '-j', 'DROP']);
          ipnft(['-A', 'OUTPUT', '-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'DROP']);
          ipnft(['-A', 'OUTPUT', '-p', 'tcp', '--dport', '7003', '-j', 'PWRU_NFT']);
        }
      });
      afterAll(() => net?.destroy());

      it('shows the table, chain and verdict that dropped each SYN, and its NEW conntrack entry', async () => {
        const filter = 'tcp and (dst port 7001 or dst port 7002 or dst port 7003)';
        const p = new PwruProcess([
          ...run.args,
          '--filter-func',
          '^ip_local_deliver$',
          '--output-json',
          '--output-netfilter',
          '--output-ct',
          filter,
        ]);
        try {
          await p.ready(300_000);
          net.connect(net.b, 7001);
          if (nftOk) {
            net.connect(net.b, 7002);
            net.connect(net.b, 7003);
          }
          // 6.8+ nft_do_chain frees a dropped skb itself: DROP:-1 (EPERM).
          const last = nftOk
            ? /"table":"filter","chain":"OUTPUT","verdict":"DROP/
            : /"table":"filter","verdict":"DROP"/;
          expect(await p.waitFor(last, 20_000), p.stderr + p.stdout.slice(-4000)).toBe(true);
          expect(await p.stop()).toBe(0);
        } finally {
          p.child.kill('SIGKILL');
        }
        const events = p.stdout
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as NfEvent);
        const walked = (port: number): NfEvent[] => events.filter((e) => e.netfilter && e.ct?.orig?.dport === port);
        expect(walked(7001)).toContainEqual(
          expect.objectContaining({
            func: expect.stringMatching(/^ipt_do_table/),
            netfilter: {
              engine: 'iptables',
              family: 'ipv4',
              hook: 'INPUT',
              table: 'filter',
              verdict: 'DROP',
              verdict_value: 0,
            },
            ct: expect.objectContaining({ state: 'NEW' }),
          }),
        );
        for (const e of events.filter((x) => x.netfilter))
          expect(e.netfilter?.verdict, JSON.stringify(e)).toMatch(/^(ACCEPT|DROP(:-1)?)$/);
        if (!nftOk) return;
        // Port 7002 passes legacy filter/INPUT, then the nft chain drops it.
        expect(walked(7002).map((e) => e.netfilter)).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ engine: 'iptables', hook: 'INPUT', table: 'filter', verdict: 'ACCEPT' }),
            expect.objectContaining({
              engine: 'nftables',
              family: 'ipv4',
              hook: 'INPUT',
              table: 'pwrutest',
              chain: 'in',
              verdict: expect.stringMatching(/^DROP/),
            }),
          ]),
        );
        expect(walked(7003)).toContainEqual(
          expect.objectContaining({
            func: expect.stringMatching(/^nft_do_chain/),
            netfilter: expect.objectContaining({
              hook: 'OUTPUT',
              table: 'filter',
              chain: 'OUTPUT',
              verdict: expect.stringMatching(/^DROP/),
            }),
            ct: expect.objectContaining({ state: 'NEW' }),
          }),
        );
      }, 400_000);
    },
  );
}
