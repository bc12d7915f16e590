import { describe, expect, it } from 'vitest';
import { BtfBuilder } from '../src/builder.js';
import { TestBpf } from '../../../tools/testing/bpf-syscall.mjs';
import { everyKindBlob } from './every-kind.js';

const bpf = TestBpf.open();
const unavailable = typeof bpf === 'string' ? bpf : undefined;
if (unavailable) console.log(`skipping BPF_BTF_LOAD tests: ${unavailable}`);

/** The BTF a loader writes for a program and its map: func_info, a map key/value, .maps. */
function programBtf(): Uint8Array {
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, { signed: true });
  const u32 = b.addTypedef('__u32', b.addInt('unsigned int', 4));
  const u64 = b.addTypedef('__u64', b.addInt('long long unsigned int', 8));
  const key = b.addStruct('flow_key', 8, [
    { name: 'saddr', type: u32, bitOffset: 0 },
    { name: 'dport', type: u32, bitOffset: 32 },
  ]);
  const skb = b.addStruct('__sk_buff', 0, []);
  b.addFunc('count_flows', b.addFuncProto(int, [{ name: 'skb', type: b.addPtr(skb) }]), 'global');
  const arr = b.addArray(int, u32, 1024);
  const mapDef = b.addStruct('', 24, [
    { name: 'max_entries', type: b.addPtr(arr), bitOffset: 0 },
    { name: 'key', type: b.addPtr(key), bitOffset: 64 },
    { name: 'value', type: b.addPtr(u64), bitOffset: 128 },
  ]);
  const flows = b.addVar('flows', mapDef, 'global');
  b.addDatasec('.maps', 24, [{ type: flows, offset: 0, size: 24 }]);
  b.addString('return 0;'); // a line_info source line
  return b.build();
}

describe.skipIf(unavailable !== undefined)('BPF_BTF_LOAD of builder output', () => {
  const k = bpf as TestBpf;

  it('the kernel accepts a program’s func_info and map types', () => {
    const r = k.loadBtf(programBtf());
    expect(r.log).not.toMatch(/invalid|error/i);
    expect(r).toMatchObject({ ok: true, errno: 0 });
  });

  it('the kernel accepts every kind the builder writes', () => {
    const r = k.loadBtf(everyKindBlob().bytes);
    expect(r.errno, r.log).toBe(0);
  });

  it('the kernel rejects a dangling type reference, so the check is real', () => {
    const b = new BtfBuilder();
    b.addPtr(42);
    const r = k.loadBtf(b.build());
    expect(r.ok).toBe(false);
    expect(r.errno).toBe(22); // EINVAL
    expect(r.log).toMatch(/Invalid type_id/);
  });
});
