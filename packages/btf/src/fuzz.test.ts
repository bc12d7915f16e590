import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Btf } from './btf.js';
import { BtfError, BtfNotFoundError } from './errors.js';
import { formatC } from './format/c.js';
import { formatJsonType } from './format/json.js';
import { formatRawType } from './format/raw.js';
import { memberPath } from './member-path.js';
import { alignOf, resolveType, sizeOf } from './resolve.js';
import { skbFunctions, skbTracepoints } from './skb.js';
import { typeName } from './type-name.js';
import { dataBlob, vmlinux61 } from '../test/fixtures.js';
import { everyKindBlob } from '../test/every-kind.js';

/** One corruption of a blob. */
type Mutation =
  | { op: 'byte'; at: number; value: number }
  | { op: 'word'; at: number; value: number }
  | { op: 'truncate'; at: number };

const word = fc.oneof(
  fc.constantFrom(0, 1, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 0x0d000001, 0x04010000, 0x84ffffff),
  fc.nat({ max: 0xffffffff }),
);
const mutation = (len: number): fc.Arbitrary<Mutation> =>
  fc.oneof(
    fc.record({ op: fc.constant('byte' as const), at: fc.nat({ max: len - 1 }), value: fc.nat({ max: 255 }) }),
    fc.record({
      op: fc.constant('word' as const),
      at: fc.nat({ max: Math.floor(len / 4) - 1 }).map((i) => i * 4),
      value: word,
    }),
    fc.record({ op: fc.constant('truncate' as const), at: fc.nat({ max: len }) }),
  );

function mutate(blob: Uint8Array, muts: Mutation[]): Uint8Array {
  let out = new Uint8Array(blob); // a copy (Buffer.slice would share memory)
  for (const m of muts) {
    if (m.op === 'truncate') out = out.slice(0, Math.min(m.at, out.length));
    else if (m.op === 'byte' && m.at < out.length) out[m.at] = m.value;
    else if (m.op === 'word' && m.at + 4 <= out.length) new DataView(out.buffer).setUint32(m.at, m.value, true);
  }
  return out;
}

/** Runs `f`; a typed BTF error is a fine outcome for corrupt input, anything else is a bug. */
function tolerate(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (e instanceof BtfError || e instanceof BtfNotFoundError) return;
    throw e;
  }
}

/** Every query and formatter over the blob's own types. */
function exercise(btf: Btf, withC: boolean): void {
  for (let id = btf.firstTypeId; id <= btf.maxTypeId; id++) {
    tolerate(() => btf.type(id));
    tolerate(() => formatRawType(btf, id));
    tolerate(() => formatJsonType(btf, id));
    tolerate(() => typeName(btf, id));
    tolerate(() => sizeOf(btf, id));
    tolerate(() => alignOf(btf, id));
    tolerate(() => {
      const t = btf.type(resolveType(btf, id));
      if ((t.kind === 'struct' || t.kind === 'union') && t.members[0]?.name) memberPath(btf, id, t.members[0].name);
    });
  }
  tolerate(() => skbFunctions(btf));
  tolerate(() => skbTracepoints(btf));
  tolerate(() => btf.idsByName('sk_buff', 'struct'));
  if (withC) tolerate(() => formatC(btf));
}

describe('fuzz: corrupt blobs give typed errors, never a crash or hang', () => {
  it('mutations of the every-kind blob in either byte order (all formatters, including C)', () => {
    const blobs = [everyKindBlob(true).bytes, everyKindBlob(false).bytes];
    const len = blobs[0]!.length;
    fc.assert(
      fc.property(fc.nat({ max: 1 }), fc.array(mutation(len), { minLength: 1, maxLength: 4 }), (order, muts) => {
        let btf: Btf;
        try {
          btf = Btf.parse(mutate(blobs[order]!, muts));
        } catch (e) {
          expect(e).toBeInstanceOf(BtfError);
          return;
        }
        exercise(btf, true);
      }),
      { numRuns: 400 },
    );
  });

  it('mutations of a real module’s split BTF on top of Debian 6.1 vmlinux', () => {
    const base = vmlinux61();
    const blob = dataBlob('nf_conntrack-6.1');
    fc.assert(
      fc.property(fc.array(mutation(blob.length), { minLength: 1, maxLength: 3 }), (muts) => {
        let btf: Btf;
        try {
          btf = Btf.parse(mutate(blob, muts), { base });
        } catch (e) {
          expect(e).toBeInstanceOf(BtfError);
          return;
        }
        exercise(btf, false);
      }),
      { numRuns: 150 },
    );
  });
});
