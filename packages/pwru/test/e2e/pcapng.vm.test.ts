import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPcapng } from '../../src/output/pcapng/reader.js';
import { backendRuns, dropShape, iptables, titled, vmSkipReason } from './kernel.js';
import { NetnsPair, PwruProcess } from './netns.js';

// --output-pcapng with the kprobe programs (the host runs only tp_btf ones), inside the test VM
// (no tshark there: pwru's own reader, checked against tshark on the host, reads the file).
// One backend, three functions and --output-netfilter's table walker: a cheap check.
const vm = vmSkipReason();
if (vm) console.log(`skipped: pcapng VM test: ${vm}`);
const drop = vm ? { func: 'kfree_skb_reason', reason: '', pattern: '' } : dropShape();
const run = backendRuns({ fentry: false }).find((r) => r.skip === undefined) ?? backendRuns({ fentry: false })[0]!;

describe.skipIf(run.skip !== undefined)(titled(`--output-pcapng (${run.label})`, run.skip), () => {
  let net: NetnsPair;
  let dir: string;
  beforeAll(() => {
    net = new NetnsPair();
    // --output-netfilter finds nft_do_chain through nf_tables' module BTF; 5.10 has none, so its
    // DROP goes through iptables-legacy, whose ipt_do_table pwru knows without BTF (as why.vm).
    const ipt = process.env.BPF_TS_VM === '5.10' ? 'iptables-legacy' : iptables((argv) => net.exec(net.nsB, argv)).v4;
    net.exec(net.nsB, [ipt, '-w', '10', '-I', 'INPUT', '1', '-p', 'tcp', '--dport', '8080', '-j', 'DROP']);
    dir = mkdtempSync(join(tmpdir(), 'pwru-pcapng-vm-'));
  });
  afterAll(() => {
    net?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes one packet per event whose IP header holds the tuple pwru printed', async () => {
    const file = join(dir, 'vm.pcapng');
    const funcs = `(ip_rcv|__dev_queue_xmit|${drop.func === 'kfree_skb' ? '^kfree_skb$' : drop.func})`;
    const p = new PwruProcess([
      ...run.args,
      '--filter-func',
      funcs,
      '--output-json',
      '--output-netfilter',
      '--output-pcapng',
      file,
      `dst host ${net.b} and tcp port 8080`,
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
      .map((l) => JSON.parse(l) as { func: string; tuple: { saddr: string; daddr: string; dport: number } });
    const [section] = readPcapng(readFileSync(file));
    expect(section!.packets).toHaveLength(events.length);
    const funcs2: string[] = [];
    section!.packets.forEach((pkt, i) => {
      const ev = events[i]!;
      expect(pkt.comment!.startsWith(ev.func + ' ')).toBe(true);
      const linkType = section!.interfaces[pkt.iface]!.linkType;
      const ip = linkType === 1 ? pkt.data.subarray(14) : pkt.data;
      expect(ip[0]! >> 4, `${ev.func}: ${Buffer.from(pkt.data).toString('hex')}`).toBe(4);
      expect([ip.subarray(12, 16).join('.'), ip.subarray(16, 20).join('.'), (ip[22]! << 8) | ip[23]!]).toEqual([
        ev.tuple.saddr,
        ev.tuple.daddr,
        ev.tuple.dport,
      ]);
      funcs2.push(ev.func.replace(/\(.*$/, ''));
    });
    expect(funcs2).toEqual(expect.arrayContaining(['__dev_queue_xmit', 'ip_rcv', drop.func]));
    // The table walker's event (stamped at its return) got the bytes copied at its entry.
    const walkers = funcs2.filter((f) => /^(ipt_do_table|nft_do_chain)(\[|$)/.test(f));
    expect(walkers.length, `${funcs2.join(' ')}\n${p.stderr.slice(-3000)}`).toBeGreaterThan(0);
  }, 400_000);
});
