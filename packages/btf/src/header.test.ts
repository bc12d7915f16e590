import { describe, expect, it } from 'vitest';
import { BtfBuilder } from './builder.js';
import { BtfError } from './errors.js';
import { parseHeader } from './header.js';

function blob(): Uint8Array {
  const b = new BtfBuilder();
  b.addInt('int', 4, { signed: true });
  return b.build();
}

describe('parseHeader', () => {
  it('reads a little-endian header and makes section offsets absolute', () => {
    const h = parseHeader(blob());
    expect(h).toMatchObject({ littleEndian: true, version: 1, hdrLen: 24, typeStart: 24, typeLen: 16 });
    expect(h.strStart).toBe(40);
  });

  it('detects big-endian blobs by their magic', () => {
    const b = new BtfBuilder({ littleEndian: false });
    b.addInt('int', 4);
    const bytes = b.build();
    expect([bytes[0], bytes[1]]).toEqual([0xeb, 0x9f]);
    expect(parseHeader(bytes).littleEndian).toBe(false);
  });

  it('accepts a header longer than 24 bytes', () => {
    const base = blob();
    const grown = new Uint8Array(base.length + 8);
    grown.set(base.subarray(0, 24));
    grown.set(base.subarray(24), 32);
    new DataView(grown.buffer).setUint32(4, 32, true);
    const h = parseHeader(grown);
    expect(h.hdrLen).toBe(32);
    expect(h.typeStart).toBe(32);
  });

  it('rejects wrong magic, short blobs and sections past the end with the byte offset', () => {
    const bad = blob();
    bad[0] = 0;
    expect(() => parseHeader(bad)).toThrow(/bad BTF magic.*at byte offset 0/);
    expect(() => parseHeader(new Uint8Array(10))).toThrow(BtfError);
    const long = blob();
    new DataView(long.buffer).setUint32(20, 1 << 30, true);
    expect(() => parseHeader(long)).toThrow(/string section .* runs past the end.*offset 16/);
  });
});
