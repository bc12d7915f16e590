import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendRuns, dropShape, iptables, titled, vmSkipReason } from './kernel.js';
import { NetnsPair, PwruProcess } from './netns.js';

// Inside the test VM (tools/vm/test.sh), with every kprobe-family and fentry backend the kernel
// has: bpf_snprintf_btf dumps (the host can only check tp_btf), and the summary counting the
// drop, with its reason where the kernel has drop reasons (read from the drop function's
// argument). Few functions: emulated CPUs attach slowly.
const vm = vmSkipReason();
if (vm) console.log(`skipped: output VM tests: ${vm}`);
const drop = vm ? { func: 'kfree_skb_reason', reason: '', pattern: '' } : dropShape();
const FUNCS = ['--filter-func', `(nf_hook_slow|${drop.func === 'kfree_skb' ? '^kfree_skb$' : drop.func}|ip_rcv)`];

for (const run of backendRuns({ fentry: false })) {
  describe.skipIf(run.skip !== undefined)(titled(`pwru dumps and summary (${run.label})`, run.skip), () => {
    let net: NetnsPair;
    beforeAll(() => {
      net = new NetnsPair();
      const ipt = iptables((argv) => net.exec(net.nsB, argv));
      net.exec(net.nsB, [ipt.v4, '-w', '10', '-I', 'INPUT', '1', '-p', 'tcp', '--dport', '8080', '-j', 'DROP']);
    });
    afterAll(() => net?.destroy());

    it('--output-skb dumps the dropped skb with its real len; the summary counts the drop', async () => {
      const p = new PwruProcess([
        ...run.args,
        ...FUNCS,
        '--output-skb',
        '--output-skb-shared-info',
        '--output-summary',
        '--filter-netns',
        `/run/netns/${net.nsB}`,
        '--filter-skb-expr',
        'skb->len > 0',
      ]);
      try {
        await p.ready(300_000);
        net.connect(net.b, 8080);
        const seen = await p.waitFor(new RegExp(`8080\\(tcp\\)\\s+${drop.pattern}\\n\\(struct sk_buff\\)\\{`), 30_000);
        expect(await p.stop()).toBe(0);
        expect(seen, `${p.stdout}\n${p.stderr}`).toBe(true);
        const lines = p.stdout.split('\n');
        const at = lines.findIndex((l) => l.endsWith(` ${drop.func}${drop.reason}`) && l.includes('8080(tcp)'));
        const len = lines[at]!.trim().split(/\s+/)[8]!;
        const end = lines.indexOf('}', at + 1);
        expect(lines.slice(at + 1, end).join('\n')).toContain(`.len = (unsigned int)${len},`);
        expect(lines[end + 1]).toBe('(struct skb_shared_info){');
        expect(p.stdout).toMatch(new RegExp(`\\n${drop.func} +\\d+\\n`));
        if (drop.reason) expect(p.stdout).toMatch(/\nSKB_DROP_REASON_NETFILTER_DROP +\d+\n/);
      } finally {
        p.child.kill('SIGKILL');
      }
    }, 400_000);

    it("--output-caller names the drop function's caller; --output-stack walks back through nf_hook_slow", async () => {
      const p = new PwruProcess([
        ...run.args,
        ...FUNCS,
        '--output-json',
        '--output-caller',
        '--output-stack',
        '--filter-netns',
        `/run/netns/${net.nsB}`,
        'tcp and dst port 8080',
      ]);
      try {
        await p.ready(300_000);
        net.connect(net.b, 8080);
        const seen = await p.waitFor(new RegExp(`"func":"${drop.pattern}"`), 30_000);
        expect(await p.stop()).toBe(0);
        expect(seen, `${p.stdout}\n${p.stderr}`).toBe(true);
      } finally {
        p.child.kill('SIGKILL');
      }
      const events = p.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { func: string; caller_func?: string; stack?: string[] });
      const dropped = events.find((e) => e.func === `${drop.func}${drop.reason}`)!;
      // The drop comes from netfilter: nf_hook_slow on the stack, and the caller one of the frames
      // right above the drop function (nf_hook_slow itself on 5.10 and 6.1; 6.12 shows
      // nft_do_chain, the rule evaluation nf_hook_slow called).
      expect(dropped.stack, p.stdout).toEqual(expect.arrayContaining(['nf_hook_slow']));
      expect(dropped.stack!.slice(0, 4), p.stdout).toContain(dropped.caller_func);
      // Every event names its caller.
      expect(events.every((e) => typeof e.caller_func === 'string')).toBe(true);
    }, 400_000);
  });
}
