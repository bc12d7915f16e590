import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKernelBtf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { fakeSession, kfreeEvents } from '../test/fake-session.js';
import { parseArgs } from './flags/parse.js';
import { Logger } from './log.js';
import { currentNetnsInode } from './netns.js';
import { ProgressBar } from './progress.js';
import { run } from './run-cli.js';

let haveBtf = true;
try {
  loadKernelBtf();
} catch {
  haveBtf = false;
}

describe.skipIf(!haveBtf)('run (with a fake kernel session)', () => {
  it('attaches every skb tracepoint, prints the header and N events, then detaches and reports loss', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pwru-run-'));
    const outPath = join(dir, 'out');
    const out = openSync(outPath, 'w');
    const logs: string[] = [];
    const { options } = parseArgs(['--output-limit-lines', '2', '--ready-file', join(dir, 'ready')]);
    const { session, calls, planned } = fakeSession(kfreeEvents(3));
    const code = await run(options, session, {
      log: new Logger((l) => logs.push(l)),
      out,
      signal: new AbortController().signal,
      progress: (n) => new ProgressBar(n, () => {}, false),
    });
    closeSync(out);
    expect(code).toBe(0);
    const text = readFileSync(outPath, 'utf8').split('\n');
    expect(text[0]).toBe(
      'SKB                CPU PROCESS          NETNS      MARK/x        IFACE       PROTO  MTU   LEN   TUPLE FUNC',
    );
    expect(text[1]).toBe(
      `0xffff8bb7038b6900 0   <empty>:0        ${String(currentNetnsInode()).padEnd(10)} 0              lo:1       0x0800 65536 84    10.1.1.1:0->10.1.1.2:0(icmp) kfree_skb(SKB_NOT_DROPPED_YET)`,
    );
    expect(text.length).toBe(4); // header, 2 events, trailing newline
    expect(planned.every((p) => p.kind === 'tracepoint')).toBe(true);
    expect(logs.map((l) => l.replace(/^\S+ \S+ /, ''))).toEqual([
      'INFO Attaching tracepoints via=tracepoint\n',
      'INFO Attached ignored=0\n',
      'INFO Listening for events..\n',
      'INFO Printed events, exiting program.. count=2\n',
      'INFO Detaching tracepoints...\n',
      'WARN Some events were lost: the ring buffer was full total=3\n',
    ]);
    expect(readFileSync(join(dir, 'ready'), 'utf8')).toBe('');
    expect(calls.filter((c) => c.startsWith('detach')).length).toBe(planned.length);
    expect(calls.at(-1)).toBe('close');
  });

  it('turns a user error into one ERROR line and exit status 1, closing the session', async () => {
    const logs: string[] = [];
    const { session, calls } = fakeSession(() => []);
    const { options } = parseArgs(['--backend=kprobe']);
    const code = await run(options, session, {
      log: new Logger((l) => logs.push(l)),
      out: 1,
      signal: new AbortController().signal,
      progress: (n) => new ProgressBar(n, () => {}, false),
    });
    expect(code).toBe(1);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(
      /ERROR Failed to run pwru error="kprobe is not available on this kernel: the kernel was built without CONFIG_KPROBES; use --backend=tracepoint"\n$/,
    );
    expect(calls).toEqual(['close']);
  });
});
