import { describe, expect, it } from 'vitest';
import { SockFilterDecodeError } from './errors.js';
import { fromTuples } from './instruction.js';
import { decodeSockFilter, encodeSockFilter } from './sockfilter.js';
import { LINKTYPES, loadRecords } from './test-corpus.js';

describe('struct sock_filter encoding', () => {
  it('lays out code, jt, jf, k little-endian in 8 bytes', () => {
    const bytes = encodeSockFilter([{ code: 0x15, jt: 1, jf: 2, k: 0xdeadbeef }]);
    expect([...bytes]).toEqual([0x15, 0x00, 0x01, 0x02, 0xef, 0xbe, 0xad, 0xde]);
  });

  it.each(LINKTYPES)('round-trips every corpus program (%s)', (linktype) => {
    for (const r of loadRecords(linktype)) {
      for (const raw of [r.cbpf_opt_raw, r.cbpf_noopt_raw]) {
        if (!raw) continue;
        const program = fromTuples(raw);
        expect(decodeSockFilter(encodeSockFilter(program))).toEqual(program);
      }
    }
  });

  it('refuses a length that is not a multiple of 8', () => {
    expect(() => decodeSockFilter(new Uint8Array(9))).toThrow(SockFilterDecodeError);
    expect(() => decodeSockFilter(new Uint8Array(9))).toThrow(/multiple of 8/);
  });
});
