import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Helper, type Instruction, JumpOp, link } from 'bpf-asm-ts';
import { Btf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { BPFMAP, BPFMAP_MAX_DATA, EventKind, eventLayout, HEADER } from '../event.js';
import { type BpfMapOp, bpfMapFields } from './bpfmap.js';
import { kernelLayoutFromBtf } from './btf-layout.js';
import { generateProgram, MAPS } from './program.js';
import { generateReturnProgram } from './return.js';

const btf = Btf.parse(gunzipSync(readFileSync(new URL('../../../btf/test/data/vmlinux-6.1.btf.gz', import.meta.url))));
const kernel = kernelLayoutFromBtf(btf);
const layout = eventLayout({
  meta: true,
  cb: false,
  tuple: true,
  tunnel: false,
  stack: false,
  caller: false,
  bpfmap: true,
});
const track = { skb: false, byStackid: true, stack: { taskStack: 24, threadSize: 16384 } };
const calls = (insns: Instruction[], helper: number): number[] =>
  insns.flatMap((x, i) => (x.isHelperCall && x.imm === helper ? [i] : []));

function entry(op: BpfMapOp): Instruction[] {
  return generateProgram({
    layout,
    kernel,
    shape: { kind: 'kprobe', skbArg: 0, site: 0, source: 'stack', bpfmap: op },
    filters: { mark: 0, mask: 0, netns: 0, ifindex: 0 },
    haveFuncIp: true,
    track,
    bpfmap: bpfMapFields(btf),
  });
}

/** The probe reads whose size is loaded from the record (not a constant): each capped at 256 just before. */
function boundedReads(insns: Instruction[]): number {
  let n = 0;
  for (const at of calls(insns, Helper.probe_read_kernel)) {
    const cap = insns
      .slice(Math.max(0, at - 6), at)
      .findIndex((x) => (x.opcode & 0xf0) === JumpOp.JLE && x.imm === BPFMAP_MAX_DATA);
    if (cap >= 0) n++;
  }
  return n;
}

describe('--output-bpfmap code', () => {
  it('update: reads map id, sizes and name, then the key and the value, each copy capped at 256 bytes; submits', () => {
    const insns = entry('update');
    expect(boundedReads(insns)).toBe(2);
    expect(calls(insns, Helper.ringbuf_submit)).toHaveLength(1);
    expect(() => link(insns)).not.toThrow();
  });

  it('delete: the key only', () => {
    expect(boundedReads(entry('delete'))).toBe(1);
  });

  it('lookup: the key at entry, then the event is parked for the return program and discarded, never submitted', () => {
    const insns = entry('lookup');
    expect(boundedReads(insns)).toBe(1);
    expect(calls(insns, Helper.ringbuf_submit)).toHaveLength(0);
    expect(calls(insns, Helper.ringbuf_discard)).toHaveLength(1);
    expect(calls(insns, Helper.map_update_elem).length).toBeGreaterThan(0);
  });

  it("lookup's return program: the parked event as it was (kind, time kept) plus the value the returned pointer points at", () => {
    const insns = generateReturnProgram({
      kind: 'kretprobe',
      layout,
      frame: { kind: 'sp', sp: kernel.ptRegs!.sp },
      retval: { kind: 'regs', ax: kernel.ptRegs!.ax },
      eventsMap: MAPS.events,
      lostMap: MAPS.lost,
      bpfmapLookup: layout.bpfmap,
    });
    expect(boundedReads(insns)).toBe(1);
    expect(calls(insns, Helper.ktime_get_ns)).toHaveLength(0);
    expect(insns.some((x) => x.offset === HEADER.kind && x.imm === EventKind.Return)).toBe(false);
    expect(insns.some((x) => x.offset === layout.bpfmap + BPFMAP.hasValue && x.imm === 1)).toBe(true);
    expect(() => link(insns)).not.toThrow();
  });
});
