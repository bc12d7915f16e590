import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Class, Helper, link } from 'bpf-asm-ts';
import { Btf, BtfBuilder } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { MissingKernelFeatureError } from '../errors.js';
import { eventLayout } from '../event.js';
import { kernelLayoutFromBtf } from './btf-layout.js';
import { generateProgram, MAPS } from './program.js';
import {
  DUMP_HEADER,
  DUMP_MAPS,
  dumpBufferValueSize,
  dumpRingBytes,
  MAX_DUMP_BYTES,
  planSkbDumps,
} from './skb-dump.js';

const btf = Btf.parse(gunzipSync(readFileSync(new URL('../../../btf/test/data/vmlinux-6.1.btf.gz', import.meta.url))));
const kernel = kernelLayoutFromBtf(btf);

/** A kernel BTF from before bpf_snprintf_btf (5.9): its bpf_func_id stops earlier. */
function oldKernelBtf(): Btf {
  const b = new BtfBuilder();
  const u32 = b.addInt('unsigned int', 4);
  b.addStruct('sk_buff', 8, [{ name: 'end', type: u32, bitOffset: 0 }]);
  b.addEnum('bpf_func_id', 4, [
    { name: 'BPF_FUNC_unspec', value: 0 },
    { name: 'BPF_FUNC_skc_to_udp6_sock', value: 140 },
  ]);
  return Btf.parse(b.build());
}

function program(dumps: ReturnType<typeof planSkbDumps>) {
  return generateProgram({
    layout: eventLayout({ meta: true, cb: false, tuple: true, tunnel: false, stack: false, caller: false }),
    kernel,
    shape: { kind: 'kprobe', skbArg: 0, site: 0 },
    filters: { mark: 0, mask: 0, netns: 0, ifindex: 0 },
    haveFuncIp: true,
    ...(dumps ? { dumps } : {}),
  });
}

describe('planSkbDumps (--output-skb, --output-skb-shared-info, --set-percpu-buf)', () => {
  it('plans nothing when neither flag is set', () => {
    expect(planSkbDumps(btf, { skb: false, sharedInfo: false, bufferBytes: 4096 })).toBeUndefined();
  });

  it('takes the BTF ids of struct sk_buff and skb_shared_info, and skb->end as a 4-byte offset on 64-bit kernels', () => {
    const plan = planSkbDumps(btf, { skb: true, sharedInfo: true, bufferBytes: 4096 })!;
    expect(plan.skbTypeId).toBe(btf.typeByName('sk_buff', 'struct').id);
    expect(plan.shinfoTypeId).toBe(btf.typeByName('skb_shared_info', 'struct').id);
    expect(plan.end.size).toBe(4);
    expect(plan.textBytes).toBe(4096);
  });

  it('sizes the per-CPU buffer from --set-percpu-buf (upstream ignores it) and the ring to hold many dumps', () => {
    const plan = planSkbDumps(btf, { skb: true, sharedInfo: false, bufferBytes: 20000 })!;
    expect(dumpBufferValueSize(plan)).toBe(20000 + DUMP_HEADER.size);
    const ring = dumpRingBytes(plan);
    expect(Math.log2(ring) % 1).toBe(0);
    expect(ring).toBeGreaterThanOrEqual(64 * 20000);
  });

  it('refuses a buffer outside what a per-CPU map value can hold', () => {
    expect(() => planSkbDumps(btf, { skb: true, sharedInfo: false, bufferBytes: MAX_DUMP_BYTES + 1 })).toThrow(
      /--set-percpu-buf must be between 64 and 32744 bytes/,
    );
    expect(() => planSkbDumps(btf, { skb: true, sharedInfo: false, bufferBytes: 8 })).toThrow(/--set-percpu-buf/);
  });

  it('fails with one line naming the helper on a kernel without bpf_snprintf_btf', () => {
    expect(() => planSkbDumps(oldKernelBtf(), { skb: true, sharedInfo: true, bufferBytes: 4096 })).toThrow(
      new MissingKernelFeatureError(
        'the bpf_snprintf_btf() helper',
        '--output-skb and --output-skb-shared-info need it (Linux 5.10 or later); run without them',
      ),
    );
  });
});

describe('the generated dump code', () => {
  it('calls bpf_snprintf_btf once per dump with the buffer size, and outputs each into the dump ring', () => {
    const plan = planSkbDumps(btf, { skb: true, sharedInfo: true, bufferBytes: 1000 })!;
    const insns = program(plan);
    const calls = insns.filter((i) => i.isHelperCall).map((i) => i.imm);
    expect(calls.filter((c) => c === Helper.snprintf_btf)).toHaveLength(2);
    expect(calls.filter((c) => c === Helper.ringbuf_output)).toHaveLength(2);
    // Each dump is sent before the event itself is submitted.
    expect(calls.lastIndexOf(Helper.ringbuf_output)).toBeLessThan(calls.lastIndexOf(Helper.ringbuf_submit));
    for (const at of insns.flatMap((x, i) => (x.isHelperCall && x.imm === Helper.snprintf_btf ? [i] : []))) {
      expect(insns.slice(at - 6, at).some((x) => x.imm === 1000)).toBe(true);
    }
    const maps = new Set(link(insns).relocations.map((r) => r.symbol));
    expect([...maps].sort()).toEqual([DUMP_MAPS.buffer, DUMP_MAPS.ring, MAPS.events, MAPS.lost].sort());
  });

  it('skips the dumps when the buffer is busy (a nested program), and frees it after the last one', () => {
    const insns = program(planSkbDumps(btf, { skb: true, sharedInfo: true, bufferBytes: 4096 }));
    const busyStores = insns.flatMap((x, i) =>
      x.offset === DUMP_HEADER.busy && x.class === Class.ST ? [{ i, imm: x.imm }] : [],
    );
    expect(busyStores.map((s) => s.imm)).toEqual([1, 0]);
    const calls = insns.flatMap((x, i) =>
      x.isHelperCall && (x.imm === Helper.snprintf_btf || x.imm === Helper.ringbuf_output) ? [i] : [],
    );
    expect(busyStores[0]!.i).toBeLessThan(Math.min(...calls));
    expect(busyStores[1]!.i).toBeGreaterThan(Math.max(...calls));
  });

  it('adds nothing to programs of runs without dumps', () => {
    const calls = program(undefined)
      .filter((i) => i.isHelperCall)
      .map((i) => i.imm);
    expect(calls).not.toContain(Helper.snprintf_btf);
    expect(calls).not.toContain(Helper.ringbuf_output);
  });

  it('dumps only what was asked for', () => {
    const calls = program(planSkbDumps(btf, { skb: false, sharedInfo: true, bufferBytes: 4096 })).filter(
      (i) => i.isHelperCall && i.imm === Helper.snprintf_btf,
    );
    expect(calls).toHaveLength(1);
  });
});
