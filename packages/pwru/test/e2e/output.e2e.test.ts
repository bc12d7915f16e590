import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { e2eSkipReason, NetnsPair, PwruProcess } from './netns.js';

// Output features on this machine's kernel with the tracepoint (tp_btf) backend, on real
// traffic: a TCP SYN from one test namespace to the other, dropped by iptables there.
const skip = e2eSkipReason();
if (skip) console.log(`skipped: output end-to-end tests ${skip}`);

const DROP = /kfree_skb\(SKB_DROP_REASON_NETFILTER_DROP\)/;

describe.skipIf(skip !== undefined)('pwru output features (tracepoint backend, real traffic)', () => {
  let net: NetnsPair;
  let dir: string;
  beforeAll(() => {
    net = new NetnsPair();
    net.exec(net.nsB, ['iptables', '-w', '10', '-I', 'INPUT', '1', '-p', 'tcp', '--dport', '8080', '-j', 'DROP']);
    dir = mkdtempSync(join(tmpdir(), 'pwru-output-e2e-'));
  });
  afterAll(() => {
    net?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs pwru on the dropped flow until `done()` holds, then stops it with SIGTERM. */
  async function run(args: string[], done: (p: PwruProcess) => boolean): Promise<PwruProcess> {
    const p = new PwruProcess(['--backend=tracepoint', ...args, `dst host ${net.b} and port 8080`]);
    try {
      await p.ready();
      net.connect(net.b, 8080);
      const end = Date.now() + 8000;
      while (!done(p) && Date.now() < end && p.child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
      if (!done(p)) throw new Error(`pwru did not show what was expected:\n${p.stdout}\nstderr:\n${p.stderr}`);
      expect(await p.stop()).toBe(0);
      return p;
    } finally {
      p.child.kill('SIGKILL');
    }
  }

  it('--output-skb and --output-skb-shared-info print the kernel dumps under the event, with its real field values', async () => {
    const p = await run(['--output-skb', '--output-skb-shared-info'], (p) => DROP.test(p.stdout));
    const lines = p.stdout.split('\n');
    const at = lines.findIndex((l) => DROP.test(l));
    const len = lines[at]!.trim().split(/\s+/)[8]!;
    expect(Number(len)).toBeGreaterThan(0);
    expect(lines[at + 1]).toBe('(struct sk_buff){');
    const skbEnd = lines.indexOf('}', at + 1);
    const skbDump = lines.slice(at + 1, skbEnd + 1).join('\n');
    expect(skbDump).toContain(`.len = (unsigned int)${len},`);
    expect(skbDump).toContain('.protocol = (__be16)8,'); // ETH_P_IP, in network order as stored
    expect(lines[skbEnd + 1]).toBe('(struct skb_shared_info){');
  });

  it('--output-json carries the dump as skb_dump, whole when --set-percpu-buf is large enough', async () => {
    const p = await run(['--output-json', '--output-skb', '--set-percpu-buf', '16384'], (p) =>
      /NETFILTER_DROP/.test(p.stdout),
    );
    const ev = JSON.parse(p.stdout.split('\n').find((l) => l.includes('NETFILTER_DROP'))!);
    expect(ev.skb_dump).toMatch(/^\(struct sk_buff\)\{\n/);
    expect(ev.skb_dump).toContain(`.len = (unsigned int)${ev.len},`);
    expect(ev.skb_dump).toMatch(/\n\}$/);
    expect(ev.skb_dump).not.toContain('truncated');
  });

  it('--set-percpu-buf really sets the dump size: a small buffer truncates, and says so', async () => {
    const p = await run(['--output-json', '--output-skb', '--set-percpu-buf', '256'], (p) =>
      /NETFILTER_DROP/.test(p.stdout),
    );
    const ev = JSON.parse(p.stdout.split('\n').find((l) => l.includes('NETFILTER_DROP'))!);
    const [text, note] = (ev.skb_dump as string).split('\n... ');
    expect(Buffer.byteLength(text!)).toBeLessThanOrEqual(255);
    expect(note).toMatch(/^\(truncated: 255 of \d+ bytes; raise --set-percpu-buf\)$/);
  });

  it('--output-summary counts the iptables drop by reason, and every kfree_skb event by function', async () => {
    const p = await run(['--output-summary'], (p) => DROP.test(p.stdout));
    const [trace, summary] = p.stdout.split('\nSUMMARY: ');
    expect(summary).toBeDefined();
    const dropLines = trace!.split('\n').filter((l) => l.endsWith(' kfree_skb(SKB_DROP_REASON_NETFILTER_DROP)')).length;
    expect(dropLines).toBeGreaterThan(0);
    const events = trace!.split('\n').slice(1).filter(Boolean).length;
    expect(summary).toMatch(new RegExp(`^${events} events, ${dropLines} drops\\n`));
    expect(summary).toMatch(new RegExp(`\\nkfree_skb +${dropLines}\\n`));
    expect(summary).toMatch(new RegExp(`\\nSKB_DROP_REASON_NETFILTER_DROP +${dropLines}\\n`));
  });

  it('--output-summary-by-tuple with --output-json ends with one summary line naming the dropped flow', async () => {
    const p = await run(['--output-json', '--output-summary-by-tuple'], (p) => /NETFILTER_DROP/.test(p.stdout));
    const lines = p.stdout.trimEnd().split('\n');
    const { summary } = JSON.parse(lines[lines.length - 1]!);
    expect(summary.events).toBe(lines.length - 1);
    expect(summary.drop_reasons).toContainEqual({ reason: 'SKB_DROP_REASON_NETFILTER_DROP', count: summary.drops });
    const flow = summary.tuples.find(
      (t: { tuple: { daddr: string; dport: number } }) => t.tuple.daddr === net.b && t.tuple.dport === 8080,
    );
    expect(flow).toMatchObject({
      last_func: 'kfree_skb',
      drop_reasons: [{ reason: 'SKB_DROP_REASON_NETFILTER_DROP' }],
    });
    expect(flow.drops).toBeGreaterThan(0);
  });

  it('--output-file writes the header, the events and the summary to the file, none to stdout', async () => {
    const file = join(dir, 'trace.log');
    const inFile = (): string => (existsSync(file) ? readFileSync(file, 'utf8') : '');
    const p = await run(['--output-file', file, '--output-summary'], () => DROP.test(inFile()));
    expect(p.stdout).toBe('');
    const text = inFile();
    expect(text.split('\n')[0]).toMatch(/^SKB +CPU PROCESS +NETNS/);
    expect(text).toMatch(
      new RegExp(`${net.b.replace(/\./g, '\\.')}:8080\\(tcp\\) +kfree_skb\\(SKB_DROP_REASON_NETFILTER_DROP\\)`),
    );
    expect(text).toMatch(/\nSKB_DROP_REASON_NETFILTER_DROP +\d+\n/);
  });

  it.each([[[]], [['--output-json']]])(
    'PROCESS names a sender that exited before its packet was printed, by the command name the kernel saw (%j)',
    async (extra) => {
      // A short-lived sender with a command name of its own: a copy of bash called "pwsend".
      const sender = join(dir, 'pwsend');
      copyFileSync('/bin/bash', sender);
      const p = new PwruProcess(['--backend=tracepoint', ...extra, `dst host ${net.b} and udp port 9999`]);
      try {
        await p.ready();
        // Hold pwru still while the sender runs and exits: its events wait in the ring buffer.
        p.child.kill('SIGSTOP');
        const pid = Number(net.exec(net.nsA, [sender, '-c', `echo $$; echo x > /dev/udp/${net.b}/9999`]).trim());
        expect(existsSync(`/proc/${pid}`)).toBe(false);
        p.child.kill('SIGCONT');
        const named = extra.length > 0 ? `"process":"pwsend:${pid}"` : ` pwsend:${pid} `;
        expect(await p.waitFor(new RegExp(named), 8000), p.stdout).toBe(true);
        expect(await p.stop()).toBe(0);
        expect(p.stdout).not.toContain(`<empty>:${pid}`);
      } finally {
        p.child.kill('SIGCONT');
        p.child.kill('SIGKILL');
      }
    },
  );
});
