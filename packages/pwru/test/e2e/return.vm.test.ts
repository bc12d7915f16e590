import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendRuns, dropShape, funcIpMissing, iptables, titled, vmSkipReason } from './kernel.js';
import { NetnsPair, PwruProcess } from './netns.js';

// --output-return for real, inside the test VM (tools/vm/test.sh), on every kernel: kretprobes
// with the kprobe backend, kprobe-multi return probes with the default backend where it
// attaches, fexit with the fentry backend. A SYN to a port that iptables drops in the receiving
// namespace makes nf_hook_slow return -EPERM. Few functions: TCG attaches slowly.
// Where bpf_get_func_ip is missing (Linux < 5.15) pwru refuses --output-return in one line.
const vm = vmSkipReason();
const skip = vm ?? funcIpMissing();
if (skip) console.log(`skipped: --output-return end-to-end tests: ${skip}`);
const runs = backendRuns();
const kprobeRuns = runs.filter((r) => r.backend !== 'fentry');
const fentry = runs.find((r) => r.backend === 'fentry')!;
const drop = skip ? { func: 'kfree_skb_reason', reason: '', pattern: '' } : dropShape();

// ip_rcv_core before ip_rcv: --filter-func matches leftmost-first, as upstream.
const FUNCS = [
  '--filter-func',
  `(nf_hook_slow|ip_rcv_core|ip_rcv|ip_local_deliver|${drop.func === 'kfree_skb' ? '^kfree_skb$' : drop.func})`,
];

describe.skipIf(vm !== undefined || skip === undefined)(
  'pwru --output-return on a kernel without bpf_get_func_ip',
  () => {
    it('refuses with one line naming the helper and the kernel version it needs', async () => {
      const p = new PwruProcess(['--output-return', '--filter-func', '^nf_hook_slow$', 'tcp']);
      expect(await p.exited).toBe(1);
      expect(p.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(
          /ERROR Failed to run pwru error="--output-return needs the bpf_get_func_ip helper \(Linux 5\.15\+\)/,
        ),
      ]);
    }, 300_000);
  },
);

describe.skipIf(skip !== undefined)(titled('pwru --output-return end to end', skip), () => {
  let net: NetnsPair;
  let targets: ChildProcess | undefined;
  beforeAll(() => {
    net = new NetnsPair();
    net.exec(net.nsB, [
      iptables((argv) => net.exec(net.nsB, argv)).v4,
      '-w',
      '10',
      '-I',
      'INPUT',
      '1',
      '-p',
      'tcp',
      '--dport',
      '8080',
      '-j',
      'DROP',
    ]);
  });
  afterAll(() => {
    targets?.stdin?.end();
    targets?.kill('SIGTERM');
    net?.destroy();
  });

  async function trace(backend: readonly string[], extra: string[], expected: RegExp): Promise<PwruProcess> {
    const p = new PwruProcess([
      ...backend,
      '--output-return',
      ...FUNCS,
      ...extra,
      '--filter-netns',
      `/run/netns/${net.nsB}`,
      'tcp and dst port 8080',
    ]);
    try {
      await p.ready(300_000);
      net.connect(net.b, 8080);
      const seen = await p.waitFor(expected, 30_000);
      expect(await p.stop()).toBe(0);
      if (!seen) throw new Error(`expected ${expected} in:\n${p.stdout}\nstderr:\n${p.stderr}`);
      return p;
    } finally {
      p.child.kill('SIGKILL');
    }
  }

  for (const run of kprobeRuns) {
    it.skipIf(run.skip !== undefined)(
      titled(
        `${run.label}: nf_hook_slow = -1 (EPERM) after its entry, for the same skb; ip_rcv_core returns the skb; void functions have no return line`,
        run.skip,
      ),
      async () => {
        const p = await trace(run.args, [], /8080\(tcp\)\s+nf_hook_slow = -1 \(EPERM\)/);
        const lines = p.stdout.split('\n');
        const ret = lines.findIndex((l) => / nf_hook_slow = -1 \(EPERM\)$/.test(l));
        const skb = lines[ret]!.split(' ')[0]!;
        // The entry line of the same call comes first, with the same skb and tuple.
        const entry = lines.findIndex(
          (l, i) => i < ret && l.startsWith(skb) && l.endsWith(' nf_hook_slow') && l.includes(`${net.b}:8080(tcp)`),
        );
        expect(entry).toBeGreaterThan(0);
        // ip_rcv_core hands back the skb it was given (no clone for an unshared skb).
        expect(lines.some((l) => l.startsWith(skb) && l.endsWith(` ip_rcv_core = ${skb}`))).toBe(true);
        // The drop propagates up the NF_HOOK chain of the receive path.
        expect(lines.some((l) => l.endsWith(' ip_local_deliver = -1 (EPERM)'))).toBe(true);
        expect(lines.some((l) => l.endsWith(` ${drop.func}${drop.reason}`))).toBe(true);
        expect(lines.some((l) => new RegExp(` ${drop.func}.* = `).test(l))).toBe(false);
        // 5 entry probes + 4 return probes (the drop function returns void).
        expect(p.stderr).toMatch(/INFO Attached ignored=0\n/);
        expect(p.stderr).toMatch(new RegExp(`via=${run.backend}\n`));
      },
      400_000,
    );
  }

  it.skipIf(fentry.skip !== undefined)(
    titled('fentry backend: fexit gives the same return values, in JSON', fentry.skip),
    async () => {
      const p = await trace(
        fentry.args,
        ['--output-json'],
        /"func":"nf_hook_slow","return":"-1 \(EPERM\)","return_value":-1/,
      );
      const events = p.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const ret = events.find((e) => e.func === 'nf_hook_slow' && e.return !== undefined)!;
      expect(ret).toMatchObject({ return: '-1 (EPERM)', return_value: -1, tuple: { daddr: net.b, dport: 8080 } });
      expect(events.some((e) => e.func === 'nf_hook_slow' && e.return === undefined && e.skb === ret.skb)).toBe(true);
      expect(events.some((e) => e.func === 'ip_rcv_core' && e.return === ret.skb && e.return_value === ret.skb)).toBe(
        true,
      );
    },
    400_000,
  );

  it.skipIf(fentry.skip !== undefined)(
    titled('tc and XDP programs (--trace-only-bpf): fexit reports their verdicts by name', fentry.skip),
    async () => {
      // Our own tc (TC_ACT_OK) and XDP (XDP_PASS) programs on the veth in namespace b.
      const script = new URL('../bpf-targets.mjs', import.meta.url).pathname;
      targets = spawn('ip', ['netns', 'exec', net.nsB, process.execPath, script, net.vethB], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let err = '';
      targets.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      await new Promise<void>((resolve, reject) => {
        targets!.stdout!.once('data', () => resolve());
        targets!.once('exit', (code) => reject(new Error(`bpf-targets.mjs exited ${code}: ${err}`)));
      });
      const p = new PwruProcess(['--trace-only-bpf', '--output-return', `dst host ${net.b} and tcp dst port 8080`]);
      const XDP = /_xdp_main\[bpf\]\(xdp\) = XDP_PASS$/m;
      const TC = /_tc_main\[bpf\]\(tc\) = TC_ACT_OK$/m;
      try {
        await p.ready(120_000);
        for (let i = 0; i < 5 && !(XDP.test(p.stdout) && TC.test(p.stdout)); i++) {
          net.connect(net.b, 8080);
          await p.waitFor(TC, 5_000);
        }
        expect(await p.stop()).toBe(0);
      } finally {
        p.child.kill('SIGKILL');
      }
      const lines = p.stdout.split('\n');
      for (const [re, entry] of [
        [XDP, /_xdp_main\[bpf\]\(xdp\)$/],
        [TC, /_tc_main\[bpf\]\(tc\)$/],
      ] as const) {
        const at = lines.findIndex((l) => re.test(l));
        expect(at, `${re} in:\n${p.stdout}\n${p.stderr}`).toBeGreaterThan(0);
        const skb = lines[at]!.split(' ')[0]!;
        // The entry line of the same program and packet comes first.
        expect(lines.slice(0, at).some((l) => l.startsWith(skb) && entry.test(l))).toBe(true);
        expect(lines[at]).toContain(`->${net.b}:8080(tcp)`);
      }
    },
    400_000,
  );

  let tunnelMade = false;
  for (const run of kprobeRuns) {
    it.skipIf(run.skip !== undefined)(
      titled(
        `${run.label}: nested calls of one function in one thread return innermost first, each with its own entry columns`,
        run.skip,
      ),
      async () => {
        // An ipip tunnel over the veth: __dev_queue_xmit(tunnel) calls __dev_queue_xmit(veth) for the
        // same skb, in the same thread. A static neighbour keeps the inner transmit synchronous.
        const n = net.a.split('.')[2];
        const [oa, ob] = [`10.234.${n}.1`, `10.234.${n}.2`];
        // Made once, by the first backend's run.
        for (const [ns, local, remote, addr] of tunnelMade
          ? []
          : ([
              [net.nsA, net.a, net.b, oa],
              [net.nsB, net.b, net.a, ob],
            ] as const)) {
          net.exec(ns, ['ip', 'link', 'add', 'pwt0', 'type', 'ipip', 'local', local, 'remote', remote]);
          net.exec(ns, ['ip', 'addr', 'add', `${addr}/24`, 'dev', 'pwt0']);
          net.exec(ns, ['ip', 'link', 'set', 'pwt0', 'up']);
        }
        tunnelMade = true;
        const mac = /link\/ether ([0-9a-f:]+)/.exec(net.exec(net.nsB, ['ip', '-o', 'link', 'show', net.vethB]))![1]!;
        net.exec(net.nsA, ['ip', 'neigh', 'replace', net.b, 'lladdr', mac, 'dev', net.vethA, 'nud', 'permanent']);
        const outer = new RegExp(
          `pwt0:\\d+ .*->${ob.replace(/\./g, '\\.')}:8080\\(tcp\\)\\s+__dev_queue_xmit = 0$`,
          'm',
        );
        const p = new PwruProcess([
          ...run.args,
          '--output-return',
          '--filter-func',
          '__dev_queue_xmit',
          '--filter-netns',
          `/run/netns/${net.nsA}`,
        ]);
        try {
          await p.ready(300_000);
          net.connect(ob, 8080);
          const seen = await p.waitFor(outer, 30_000);
          expect(await p.stop()).toBe(0);
          expect(seen, `${outer} in:\n${p.stdout}\n${p.stderr}`).toBe(true);
        } finally {
          p.child.kill('SIGKILL');
        }
        const lines = p.stdout.split('\n');
        const skb = lines.find((l) => outer.test(l))!.split(' ')[0]!;
        const calls = lines
          .filter((l) => l.startsWith(`${skb} `))
          .slice(0, 4)
          .map(
            (l) =>
              `${/ (pwt0|pwa\d+):\d+ /.exec(l)?.[1]?.replace(/\d+$/, '')} ${l.slice(l.lastIndexOf(' __dev_queue_xmit') + 1)}`,
          );
        expect(calls).toEqual([
          'pwt __dev_queue_xmit',
          'pwa __dev_queue_xmit',
          'pwa __dev_queue_xmit = 0',
          'pwt __dev_queue_xmit = 0',
        ]);
      },
      400_000,
    );
  }
});
