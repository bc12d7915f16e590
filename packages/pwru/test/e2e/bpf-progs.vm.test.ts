import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPcapng } from '../../src/output/pcapng/reader.js';
import { backendRuns, titled, vmSkipReason } from './kernel.js';
import { NetnsPair, PwruProcess } from './netns.js';

// Inside the test VM (tools/vm/test.sh), on every kernel whose fentry attaches to BPF programs
// (this machine's 6.18 refuses fentry); the cases with kernel functions too run with each
// kprobe-family backend the kernel has. Our own tc and XDP programs — each an entry
// function calling a subprogram listed first in its BTF (upstream's #404) — are attached by
// bpf-loader-ts to the veth in namespace b; real TCP SYNs from namespace a pass through both.
const runs = backendRuns();
const skip = vmSkipReason() ?? runs.find((r) => r.backend === 'fentry')!.skip;
if (skip) console.log(`skipped: tc/XDP program tracing end-to-end tests: ${skip}`);
const kprobeRuns = runs.filter((r) => r.backend !== 'fentry');

const TC = /bpf_prog_[0-9a-f]{16}_tc_main\[bpf\]\(tc\)/;
const XDP = /bpf_prog_[0-9a-f]{16}_xdp_main\[bpf\]\(xdp\)/;

describe.skipIf(skip !== undefined)(
  titled(
    'pwru --filter-trace-tc / --filter-trace-xdp / --trace-only-bpf (fentry on our own tc and XDP programs)',
    skip,
  ),
  () => {
    let net: NetnsPair;
    let targets: ChildProcess;
    let ifindexB = 0;

    beforeAll(async () => {
      net = new NetnsPair();
      ifindexB = Number(net.exec(net.nsB, ['cat', `/sys/class/net/${net.vethB}/ifindex`]).trim());
      // Attached from inside namespace b (links are created in the caller's netns).
      const script = new URL('../bpf-targets.mjs', import.meta.url).pathname;
      targets = spawn('ip', ['netns', 'exec', net.nsB, process.execPath, script, net.vethB], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let err = '';
      targets.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      await new Promise<void>((resolve, reject) => {
        targets.stdout!.once('data', () => resolve());
        targets.once('exit', (code) => reject(new Error(`bpf-targets.mjs exited ${code}: ${err}`)));
      });
    }, 60_000);

    afterAll(() => {
      targets?.stdin?.end();
      targets?.kill('SIGTERM');
      net?.destroy();
    });

    async function traced(args: string[], until: RegExp[]): Promise<PwruProcess> {
      const p = new PwruProcess(args);
      try {
        await p.ready(120_000);
        for (let i = 0; i < 5 && !until.every((re) => re.test(p.stdout)); i++) {
          net.connect(net.b, 8080);
          await p.waitFor(new RegExp(until.map((r) => r.source).join('[\\s\\S]*'), 'm'), 5_000);
        }
        expect(await p.stop()).toBe(0);
        return p;
      } finally {
        p.child.kill('SIGKILL');
      }
    }

    it('--trace-only-bpf: (tc) and (xdp) lines for the SYN, the pcap filter applied, no kernel functions', async () => {
      const p = await traced(['--trace-only-bpf', `dst host ${net.b} and tcp dst port 8080`], [XDP, TC]);
      const lines = p.stdout.split('\n').filter((l) => l.startsWith('0x'));
      expect(lines.some((l) => XDP.test(l) && l.includes(`->${net.b}:8080(tcp)`))).toBe(true);
      expect(lines.some((l) => TC.test(l) && l.includes(`->${net.b}:8080(tcp)`))).toBe(true);
      // Only BPF programs, and only what the filter lets through (no ARP, no replies).
      expect(lines.every((l) => (TC.test(l) || XDP.test(l)) && l.includes(`:8080(tcp)`))).toBe(true);
      expect(p.stdout.split('\n')[0]).toContain('__sk_buff->cb[]');
      expect(p.stderr).toMatch(/INFO Attaching tc-bpf progs\.\.\.\n[\s\S]*INFO Attaching xdp progs\.\.\.\n/);
      expect(p.stderr).not.toMatch(/Attaching (kprobes|tracepoints|fentry programs)/);
    }, 300_000);

    it('netns, ifname and --filter-xdp-expr filters apply; --output-xdp-metadata prints the rx queue', async () => {
      const p = await traced(
        [
          '--filter-trace-tc',
          '--filter-trace-xdp',
          '--trace-only-bpf',
          '--filter-netns',
          `/run/netns/${net.nsB}`,
          '--filter-ifname',
          net.vethB,
          '--filter-xdp-expr',
          `xdp->rxq->dev->ifindex == ${ifindexB}`,
          '--output-xdp-metadata',
          'xdp->rxq->queue_index',
          'tcp and dst port 8080',
        ],
        [XDP, TC],
      );
      const lines = p.stdout.split('\n').filter((l) => l.startsWith('0x'));
      const xdp = lines.find((l) => XDP.test(l))!;
      expect(xdp).toMatch(new RegExp(`${net.vethB}:${ifindexB}.*\\(xdp\\) queue_index=0$`));
      expect(lines.find((l) => TC.test(l))).toMatch(new RegExp(`${net.vethB}:${ifindexB}`));
    }, 300_000);

    it('JSON: func carries the suffix; an XDP expression that matches nothing leaves only (tc) events', async () => {
      const p = await traced(
        [
          '--output-json',
          '--filter-trace-tc',
          '--filter-trace-xdp',
          '--trace-only-bpf',
          '--filter-xdp-expr',
          'xdp->rxq->dev->ifindex == 99999',
          'tcp and dst port 8080',
        ],
        [TC],
      );
      const funcs = p.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => (JSON.parse(l) as { func: string }).func);
      expect(funcs.length).toBeGreaterThan(0);
      expect(funcs.every((f) => TC.test(f))).toBe(true);
    }, 300_000);

    it('--output-pcapng: (tc) and (xdp) events carry the frame the program saw', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pwru-bpf-pcapng-'));
      const file = join(dir, 'bpf.pcapng');
      try {
        const p = await traced(
          ['--trace-only-bpf', '--output-json', '--output-pcapng', file, `dst host ${net.b} and tcp dst port 8080`],
          [XDP, TC],
        );
        const events = p.stdout
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { func: string });
        const [section] = readPcapng(readFileSync(file));
        expect(section!.packets).toHaveLength(events.length);
        section!.packets.forEach((pkt, i) => {
          const func = events[i]!.func;
          expect(TC.test(func) || XDP.test(func), func).toBe(true);
          // Both see the frame from its Ethernet header: IPv4 to b, TCP port 8080.
          expect(section!.interfaces[pkt.iface]!.linkType, func).toBe(1);
          const ip = pkt.data.subarray(14);
          expect([ip[0]! >> 4, ip.subarray(16, 20).join('.'), (ip[22]! << 8) | ip[23]!], func).toEqual([
            4,
            net.b,
            8080,
          ]);
        });
        expect(events.some((e) => XDP.test(e.func)) && events.some((e) => TC.test(e.func))).toBe(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 300_000);

    const seqRun = kprobeRuns.find((r) => r.skip === undefined) ?? kprobeRuns[0]!;
    it.skipIf(seqRun.skip !== undefined)(
      titled(`${seqRun.label}: --output-sequence joins the skb built from the XDP frame to the frame`, seqRun.skip),
      async () => {
        const p = await traced(
          [
            ...seqRun.args,
            '--filter-func',
            'ip_rcv_core',
            '--filter-trace-tc',
            '--filter-trace-xdp',
            '--output-json',
            '--timestamp',
            'current',
            '--output-sequence',
            `dst host ${net.b} and tcp dst port 8080`,
          ],
          [XDP, TC, /"func":"ip_rcv_core"/],
        );
        const stories = p.stdout
          .split('\n')
          .filter((l) => l.startsWith('{"packet"'))
          .map((l) => JSON.parse(l) as { skbs: string[]; hops: Array<{ skb: string; func: string; iface: string }> });
        const joined = stories.find((s) => XDP.test(s.hops[0]!.func) && s.hops.some((h) => h.func === 'ip_rcv_core'));
        const show = JSON.stringify(stories, null, 1);
        expect(joined, show).toBeDefined();
        // The frame (its xdp_buff), then the skb built from it: tc ingress, then the IP layer.
        const [frame, skb] = joined!.skbs;
        expect(joined!.skbs, show).toHaveLength(2);
        expect(
          joined!.hops.map((h) => [
            h.skb === frame ? 'frame' : h.skb === skb ? 'skb' : h.skb,
            h.func.replace(/^bpf_prog_\w+\[bpf\]/, ''),
          ]),
          show,
        ).toEqual([
          ['frame', '(xdp)'],
          ['skb', '(tc)'],
          ['skb', 'ip_rcv_core'],
        ]);
        for (const h of joined!.hops) expect(h.iface, show).toMatch(new RegExp(`^${net.vethB}:`));
      },
      300_000,
    );

    for (const run of kprobeRuns) {
      it.skipIf(run.skip !== undefined)(
        titled(
          `${run.label}: with kernel functions too, kprobes and (tc)/(xdp) lines interleave in packet order`,
          run.skip,
        ),
        async () => {
          // With XDP on a veth, received packets go through GRO and the list receive path
          // (ip_list_rcv), so ip_rcv_core is the function every IPv4 receive passes.
          const IP = /^ip_rcv_core$/;
          const p = await traced(
            [
              ...run.args,
              '--filter-func',
              'ip_rcv_core',
              '--filter-trace-tc',
              '--filter-trace-xdp',
              `dst host ${net.b} and tcp dst port 8080`,
            ],
            [XDP, TC, / ip_rcv_core$/m],
          );
          const funcs = p.stdout
            .split('\n')
            .filter((l) => l.startsWith('0x'))
            .map((l) => l.split(' ').at(-1)!);
          const first = (re: RegExp) => funcs.findIndex((f) => re.test(f));
          expect(first(IP)).toBeGreaterThan(-1);
          // XDP runs in the driver, tc at ingress, the IP layer after both.
          expect(first(XDP)).toBeLessThan(first(TC));
          expect(first(TC)).toBeLessThan(first(IP));
        },
        300_000,
      );

      it.skipIf(run.skip !== undefined)(
        titled(
          `${run.label}: --filter-track-bpf-helpers, the helper the tc program calls shows with its packet, found in the JIT image`,
          run.skip,
        ),
        async () => {
          const HELPER = / bpf_ktime_get_ns$/m;
          const p = await traced(
            [
              ...run.args,
              '--trace-only-bpf',
              '--filter-trace-tc',
              '--filter-track-bpf-helpers',
              `dst host ${net.b} and tcp dst port 8080`,
            ],
            [TC, HELPER],
          );
          const lines = p.stdout.split('\n').filter((l) => l.startsWith('0x'));
          const tc = lines.findIndex((l) => TC.test(l));
          const helper = lines.findIndex((l, i) => i > tc && HELPER.test(l));
          expect(helper).toBeGreaterThan(tc);
          // Reported with the skb its stack carries: the SYN the tc program saw.
          expect(lines[helper]).toContain(`->${net.b}:8080(tcp)`);
          expect(lines[helper]!.split(' ')[0]).toBe(lines[tc]!.split(' ')[0]);
          expect(p.stderr).toMatch(/INFO Found functions called by BPF programs count=[1-9]/);
        },
        300_000,
      );

      it.skipIf(run.skip !== undefined)(
        titled(
          `${run.label}: --filter-track-skb with XDP tracing, a packet matched at XDP stays tracked in the skb built from its buffer`,
          run.skip,
        ),
        async () => {
          // --filter-skb-expr rejects every skb (nothing sets mark 77) and does not apply to XDP events:
          // only the XDP match, linked through data_hard_start = skb->head, can show ip_rcv_core.
          const IP = / ip_rcv_core$/m;
          const args = [
            ...run.args,
            '--filter-func',
            'ip_rcv_core',
            '--filter-trace-xdp',
            '--filter-skb-expr',
            'skb->mark == 77',
            `dst host ${net.b} and tcp dst port 8080`,
          ];
          const p = await traced(['--filter-track-skb', ...args], [XDP, IP]);
          const lines = p.stdout.split('\n').filter((l) => l.startsWith('0x'));
          const xdp = lines.findIndex((l) => XDP.test(l));
          const ip = lines.findIndex((l, i) => i > xdp && IP.test(l));
          expect(ip).toBeGreaterThan(xdp);
          expect(lines[ip]).toContain(`->${net.b}:8080(tcp)`);
          // The control: without --filter-track-skb the skb filter hides it.
          const control = await traced(args, [XDP]);
          expect(control.stdout).not.toMatch(IP);
        },
        300_000,
      );
    }
  },
);
