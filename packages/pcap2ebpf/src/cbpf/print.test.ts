import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromTuples } from './instruction.js';
import { formatCbpfC, formatDecimal, formatCbpfInstruction, formatListing } from './print.js';
import { LINKTYPES, loadRecords } from './test-corpus.js';

describe('formatCbpfInstruction (tcpdump -d)', () => {
  it('prints every opcode exactly like libpcap 1.10 bpf_image()', () => {
    // bpf-image.txt was produced by fixtures/bpf-image-oracle.c linked against Debian's libpcap 1.10.3.
    const lines = readFileSync(new URL('./fixtures/bpf-image.txt', import.meta.url), 'utf8')
      .split('\n')
      .filter(Boolean);
    expect(lines.length).toBeGreaterThan(2500);
    for (const line of lines) {
      const [head, image] = line.split('\t', 2) as [string, string];
      const rest = line.slice(head.length + 1);
      const [n, code, jt, jf, k] = head.split(' ').map(Number) as [number, number, number, number, number];
      expect(formatCbpfInstruction({ code, jt, jf, k }, n), `code ${code} k ${k}`).toBe(rest);
      expect(image.length).toBeGreaterThan(0);
    }
  });

  it('keeps the trailing spaces of operand-less instructions', () => {
    expect(formatCbpfInstruction({ code: 0x07, jt: 0, jf: 0, k: 0 }, 3)).toBe('(003) tax      ');
  });
});

describe.each(LINKTYPES)('corpus listings (%s)', (linktype) => {
  const records = loadRecords(linktype);

  it('decoding -ddd then printing gives the -d listing for every optimized and unoptimized program', () => {
    let compared = 0;
    for (const r of records) {
      if (r.cbpf_opt_raw) {
        expect(formatListing(fromTuples(r.cbpf_opt_raw)), r.expr).toEqual(r.cbpf_opt);
        compared++;
      }
      if (r.cbpf_noopt_raw) {
        expect(formatListing(fromTuples(r.cbpf_noopt_raw)), r.expr).toEqual(r.cbpf_noopt);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(1000);
  });
});

describe('formatCbpfC and formatDecimal (tcpdump -dd / -ddd)', () => {
  const ip = fromTuples([
    [40, 0, 0, 12],
    [21, 0, 1, 2048],
    [6, 0, 0, 262144],
    [6, 0, 0, 0],
  ]);
  it('-dd prints C initialisers with an 8-digit hex k', () => {
    expect(formatCbpfC(ip)).toEqual([
      '{ 0x28, 0, 0, 0x0000000c },',
      '{ 0x15, 0, 1, 0x00000800 },',
      '{ 0x6, 0, 0, 0x00040000 },',
      '{ 0x6, 0, 0, 0x00000000 },',
    ]);
  });
  it('-ddd prints the count then decimal fields', () => {
    expect(formatDecimal(ip)).toEqual(['4', '40 0 0 12', '21 0 1 2048', '6 0 0 262144', '6 0 0 0']);
  });
});
