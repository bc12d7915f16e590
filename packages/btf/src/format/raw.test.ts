import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Btf } from '../btf.js';
import { formatRaw, formatRawType } from './raw.js';
import {
  HOST_VMLINUX,
  bpftoolDigests,
  dataBlob,
  hasHostBtf,
  hostBtf,
  nfConntrack61,
  vmlinux61,
} from '../../test/fixtures.js';
import { bpftoolDump, hasBpftool } from '../../test/bpftool.js';
import { everyKindBlob } from '../../test/every-kind.js';

const dir = mkdtempSync(join(tmpdir(), 'btf-raw-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha256 = (s: string): string => createHash('sha256').update(s, 'latin1').digest('hex');

describe('formatRaw', () => {
  it("prints bpftool's line for each kind", () => {
    const { bytes, ids } = everyKindBlob();
    const btf = Btf.parse(bytes);
    expect(formatRawType(btf, ids.int!)).toBe("[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED");
    expect(formatRawType(btf, ids.st!)).toBe(
      "[7] STRUCT 'pair' size=8 vlen=3\n\t'a' type_id=1 bits_offset=0\n\t'flags' type_id=2 bits_offset=32 bitfield_size=3\n\t'more' type_id=2 bits_offset=35 bitfield_size=29",
    );
    expect(formatRawType(btf, ids.se64!)).toBe(
      `[${ids.se64}] ENUM64 'sbig' encoding=SIGNED size=8 vlen=1\n\t'NEG' val=-5LL`,
    );
    expect(formatRawType(btf, ids.v!)).toBe(`[${ids.v}] VAR 'counter' type_id=1, linkage=global`);
  });

  it.skipIf(!hasBpftool)('matches bpftool on a blob with every kind, in both byte orders', () => {
    for (const le of [true, false]) {
      const { bytes } = everyKindBlob(le);
      const file = join(dir, `every-${le}.btf`);
      writeFileSync(file, bytes);
      expect(formatRaw(Btf.parse(bytes))).toBe(bpftoolDump(file));
    }
  });

  it("matches the digest of bpftool's dump of Debian 6.1's vmlinux and nf_conntrack module", () => {
    expect(sha256(formatRaw(vmlinux61()))).toBe(bpftoolDigests['vmlinux-6.1.raw']);
    expect(sha256(formatRaw(nfConntrack61()))).toBe(bpftoolDigests['nf_conntrack-6.1.raw']);
  });

  it.skipIf(!hasBpftool)('matches bpftool live on the 6.1 module’s split BTF', () => {
    writeFileSync(join(dir, 'vmlinux.btf'), dataBlob('vmlinux-6.1'));
    writeFileSync(join(dir, 'mod.btf'), dataBlob('nf_conntrack-6.1'));
    expect(formatRaw(nfConntrack61())).toBe(bpftoolDump(join(dir, 'mod.btf'), { base: join(dir, 'vmlinux.btf') }));
  });

  it.skipIf(!hasHostBtf || !hasBpftool)('matches bpftool byte for byte on this machine’s vmlinux', () => {
    const ours = formatRaw(hostBtf());
    const theirs = bpftoolDump(HOST_VMLINUX);
    expect(ours.length).toBe(theirs.length);
    expect(ours === theirs).toBe(true);
  });
});
