import { openSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fakeSession } from '../test/fake-session.js';
import { parseArgs } from './flags/parse.js';
import { DetachProgress, Interrupts } from './interrupts.js';
import { Logger } from './log.js';
import { ProgressBar } from './progress.js';
import { run } from './run-cli.js';
import { loadKernelBtf } from 'btf-parser';

let haveBtf = true;
try {
  loadKernelBtf();
} catch {
  haveBtf = false;
}

describe('Interrupts: Ctrl-C while pwru runs', () => {
  it('stops the trace at the first signal and only reports at later ones', () => {
    const i = new Interrupts();
    const repeats: number[] = [];
    i.onRepeat(() => repeats.push(i.count));
    expect(i.signal.aborted).toBe(false);
    i.raise();
    expect(i.signal.aborted).toBe(true);
    expect(repeats).toEqual([]);
    i.raise();
    i.raise();
    expect(repeats).toEqual([2, 3]);
  });
});

describe('DetachProgress.describe: what a slow detach is waiting for', () => {
  it('counts what is left, projects the rest at the pace so far and says why kprobes are slow', () => {
    let now = 0;
    const d = new DetachProgress(() => now);
    d.begin(1352, 'kprobe');
    now = 21_000;
    d.advance(540);
    expect(d.active).toBe(true);
    expect(d.describe()).toBe(
      'Still detaching probes: 812 of 1352 left after 21 s (about 32 s more at this pace); the kernel removes kprobes one at a time, each after an RCU grace period. ' +
        'pwru exits once none is left, so nothing stays attached (killing it would not be faster: the kernel does the same work when it exits)',
    );
    d.end();
    expect(d.active).toBe(false);
  });

  it('makes no projection before the first target is detached', () => {
    let now = 0;
    const d = new DetachProgress(() => now);
    d.begin(30, 'tracepoint');
    now = 2000;
    expect(d.describe()).toMatch(
      /^Still detaching tracepoints: 30 of 30 left after 2 s; the kernel is releasing the tracepoint links\. /,
    );
  });
});

describe.skipIf(!haveBtf)('run: a second Ctrl-C during a slow detach (fake kernel session)', () => {
  it('prints what is left and why, keeps detaching, and exits 0 with everything detached', async () => {
    const fake = fakeSession(() => []);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let detached = 0;
    fake.session.attach = async (_p, progress) => {
      progress(1);
      return { attachments: [{ count: 1, detach: async (done) => (await gate, detached++, done(1)) }], ignored: 0 };
    };
    const logs: string[] = [];
    const interrupts = new Interrupts();
    const { options } = parseArgs(['--filter-func', '(kfree_skb|consume_skb|net_dev_queue)']);
    const ran = run(options, fake.session, {
      log: new Logger((l) => logs.push(l)),
      out: openSync('/dev/null', 'w'),
      signal: interrupts.signal,
      progress: (n) => new ProgressBar(n, () => {}, false),
      interrupts,
    });
    const until = async (what: string): Promise<void> => {
      while (!logs.some((l) => l.includes(what))) await new Promise((r) => setTimeout(r, 10));
    };
    await until('Listening for events');
    interrupts.raise(); // the first Ctrl-C: stop and detach
    await until('Detaching tracepoints...');
    interrupts.raise(); // the second: what is going on?
    await until('Still detaching');
    expect(logs.find((l) => l.includes('Still detaching'))).toMatch(
      /INFO Still detaching tracepoints: 3 of 3 left after \d+ s; the kernel is releasing the tracepoint links\. pwru exits once none is left/,
    );
    release();
    expect(await ran).toBe(0);
    expect(detached).toBe(3);
    expect(fake.calls.at(-1)).toBe('close');
  });
});
