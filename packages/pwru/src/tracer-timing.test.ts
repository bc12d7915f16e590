import { loadKernelBtf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { fakeSession } from '../test/fake-session.js';
import { parseArgs } from './flags/parse.js';
import { pcapFilters } from './generate/pcap.js';
import { Logger } from './log.js';
import { StartupTimes } from './timing.js';
import { Tracer } from './tracer.js';

let haveBtf = true;
try {
  loadKernelBtf();
} catch {
  haveBtf = false;
}
const root = process.getuid?.() === 0;

describe.skipIf(!haveBtf || !root)('Tracer.start: --debug start-up phases', () => {
  const opts = parseArgs([
    '--backend',
    'tracepoint',
    '--filter-func',
    '^(kfree_skb|consume_skb)$',
    'host 10.255.255.254',
  ]).options;

  it('times every step from discovery to attach, and each program the verifier loads', async () => {
    const logs: string[] = [];
    const times = new StartupTimes();
    times.add('btf', 5);
    const { session } = fakeSession(() => []);
    const tracer = await Tracer.start(opts, {
      session,
      log: new Logger((l) => logs.push(l), true),
      times,
      pcap: pcapFilters,
    });
    await tracer.close();
    expect(times.list().map((p) => p.name)).toEqual([
      'btf',
      'tracefs',
      'probes',
      'discovery',
      'layout',
      'pcap',
      'generation',
      'maps',
      'verifier',
      'attach',
    ]);
    const text = logs.join('');
    expect(text).toMatch(
      /DEBUG Start-up phases btf=5 tracefs=\d+ probes=\d+ discovery=\d+ layout=\d+ pcap=\d+ generation=\d+ maps=\d+ verifier=\d+ attach=\d+ total=\d+ unit=ms\n/,
    );
    expect(text.match(/DEBUG Loaded program name=pwru_tp_\d+ instructions=\d+ ms=[\d.]+\n/g)).toHaveLength(2);
  });

  it('logs no phases when nobody times the run (the trace() API)', async () => {
    const logs: string[] = [];
    const { session } = fakeSession(() => []);
    const tracer = await Tracer.start(opts, { session, log: new Logger((l) => logs.push(l), true), pcap: pcapFilters });
    await tracer.close();
    expect(logs.join('')).not.toMatch(/Start-up phases/);
  });
});
