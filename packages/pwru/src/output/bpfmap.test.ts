import { describe, expect, it } from 'vitest';
import { bpfmapJson, bpfmapText, hexDump } from './bpfmap.js';
import { CURL_DROP, DEFAULT_OUTPUT, fakeContext } from './fixtures.js';
import { JsonPrinter } from './json.js';
import { TextPrinter } from './text.js';

describe('hexDump', () => {
  it("prints as Go's encoding/hex.Dump: offset, 16 bytes with a gap after 8, printable ASCII between bars", () => {
    const bytes = new Uint8Array(20).map((_, i) => 0x41 + i);
    bytes[3] = 0;
    expect(hexDump(bytes)).toBe(
      '00000000  41 42 43 00 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50  |ABC.EFGHIJKLMNOP|\n' +
        '00000010  51 52 53 54                                       |QRST|\n',
    );
    expect(hexDump(new Uint8Array(0))).toBe('');
    expect(hexDump(new Uint8Array(8).fill(0x7f))).toBe(
      '00000000  7f 7f 7f 7f 7f 7f 7f 7f                           |........|\n',
    );
  });
});

describe('bpfmap output', () => {
  const m = {
    id: 7,
    name: 'pwru_test_map',
    keySize: 4,
    valueSize: 8,
    key: new Uint8Array([0x44, 0x33, 0x22, 0x11]),
    value: new Uint8Array([8, 7, 6, 5, 0, 0, 0, 0]),
  };

  it("appends upstream's block to the event line: id, name, key(size), value(size) with their dumps", () => {
    expect(bpfmapText(m)).toBe(
      '\nmap_id: 7\nmap_name: pwru_test_map\nkey(4):\n' +
        '00000000  44 33 22 11                                       |D3".|\n' +
        'value(8):\n' +
        '00000000  08 07 06 05 00 00 00 00                           |........|\n',
    );
  });

  it('prints the real sizes but no value dump for a delete or a lookup that found nothing', () => {
    expect(bpfmapText({ ...m, keySize: 300, value: undefined as never }).endsWith('value(8):\n')).toBe(true);
    expect(bpfmapText({ ...m, keySize: 300 })).toContain('key(300):');
  });

  it('JSON: sizes, and key and value as lowercase hex', () => {
    expect(bpfmapJson(m)).toEqual({
      id: 7,
      name: 'pwru_test_map',
      key_size: 4,
      value_size: 8,
      key: '44332211',
      value: '0807060500000000',
    });
    const { value: _v, ...del } = m;
    expect(bpfmapJson(del)).toEqual({ id: 7, name: 'pwru_test_map', key_size: 4, value_size: 8, key: '44332211' });
  });
});

describe('printers', () => {
  const bpfmap = { id: 3, name: 'm', keySize: 1, valueSize: 1, key: new Uint8Array([1]), value: new Uint8Array([2]) };
  const opts = { ...DEFAULT_OUTPUT, outputMeta: false, outputTuple: false };

  it('text: the block follows the event line, and a blank line closes it, as upstream (hex.Dump ends in a newline)', () => {
    expect(new TextPrinter(opts, fakeContext()).format({ ...CURL_DROP, p2: 999, bpfmap })).toBe(
      '0xffff8bb7038b6900 3   ~in/curl:3378123 kfree_skb_reason (999)\nmap_id: 3\nmap_name: m\nkey(1):\n' +
        '00000000  01                                                |.|\nvalue(1):\n00000000  02                                                |.|\n\n',
    );
  });

  it('JSON: format() and toJson() agree on the bpfmap object', () => {
    const p = new JsonPrinter(opts, fakeContext());
    const ev = { ...CURL_DROP, bpfmap };
    expect(JSON.parse(p.format(ev))).toEqual(JSON.parse(JSON.stringify(p.toJson(ev))));
    expect(p.toJson(ev).bpfmap).toEqual({ id: 3, name: 'm', key_size: 1, value_size: 1, key: '01', value: '02' });
  });
});
