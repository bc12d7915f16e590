import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Btf } from '../btf.js';
import { formatJson } from './json.js';
import { HOST_VMLINUX, bpftoolDigests, dataBlob, hasHostBtf, hostBtf, nfConntrack61 } from '../../test/fixtures.js';
import { bpftoolDump, hasBpftool } from '../../test/bpftool.js';
import { everyKindBlob } from '../../test/every-kind.js';

const dir = mkdtempSync(join(tmpdir(), 'btf-json-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * bpftool 7.1 prints an unsigned 32-bit ENUM value above 2^31 sign-extended to 64 bits
 * (4026531839 comes out as 18446744073441116159); we print the value itself. Undo that quirk.
 */
function fixBpftoolEnums(json: string): string {
  return json
    .split('{"id":')
    .map((obj) =>
      /^\d+,"kind":"ENUM","[^]*?"encoding":"UNSIGNED"/.test(obj)
        ? obj.replace(/"val":(\d{11,})/g, (_, n: string) => `"val":${BigInt(n) & 0xffffffffn}`)
        : obj,
    )
    .join('{"id":');
}

describe('formatJson', () => {
  it('is JSON of every type with bpftool’s field names', () => {
    const { bytes, ids } = everyKindBlob();
    const btf = Btf.parse(bytes);
    const parsed = JSON.parse(formatJson(btf)) as { types: Record<string, unknown>[] };
    expect(parsed.types).toHaveLength(btf.typeCount);
    expect(parsed.types[ids.st! - 1]).toEqual({
      id: ids.st,
      kind: 'STRUCT',
      name: 'pair',
      size: 8,
      vlen: 3,
      members: [
        { name: 'a', type_id: ids.int, bits_offset: 0 },
        { name: 'flags', type_id: ids.uint, bits_offset: 32, bitfield_size: 3 },
        { name: 'more', type_id: ids.uint, bits_offset: 35, bitfield_size: 29 },
      ],
    });
    expect(parsed.types[ids.uen! - 1]).toMatchObject({ kind: 'ENUM', values: [{ name: 'BIG_FLAG', val: 0x80000000 }] });
  });

  it("matches the digest of bpftool -j's dump of the 6.1 nf_conntrack module", () => {
    expect(createHash('sha256').update(formatJson(nfConntrack61()), 'latin1').digest('hex')).toBe(
      bpftoolDigests['nf_conntrack-6.1.json'],
    );
  });

  it.skipIf(!hasBpftool)('matches bpftool -j on every kind and on a 6.1 module', () => {
    const { bytes } = everyKindBlob();
    writeFileSync(join(dir, 'every.btf'), bytes);
    expect(formatJson(Btf.parse(bytes))).toBe(fixBpftoolEnums(bpftoolDump(join(dir, 'every.btf'), { json: true })));
    writeFileSync(join(dir, 'vmlinux.btf'), dataBlob('vmlinux-6.1'));
    writeFileSync(join(dir, 'mod.btf'), dataBlob('nf_conntrack-6.1'));
    expect(formatJson(nfConntrack61())).toBe(
      bpftoolDump(join(dir, 'mod.btf'), { base: join(dir, 'vmlinux.btf'), json: true }),
    );
  });

  it.skipIf(!hasBpftool || !hasHostBtf)('matches bpftool -j on this machine’s vmlinux', () => {
    expect(formatJson(hostBtf()) === fixBpftoolEnums(bpftoolDump(HOST_VMLINUX, { json: true }))).toBe(true);
  });
});
