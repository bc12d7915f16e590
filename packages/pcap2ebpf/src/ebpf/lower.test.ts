import { callFunction, exit, Helper, link, Mov, print, R0 } from 'bpf-asm-ts';
import { describe, expect, it } from 'vitest';
import { fromTuples, ja, jmpK, ldAbs, ldImm, ldInd, ldxImm, ldxMsh, retA, retK, tax } from '../cbpf/instruction.js';
import { BPF_JEQ } from '../cbpf/opcode.js';
import { LINKTYPES, loadRecords } from '../cbpf/test-corpus.js';
import { LoweringError } from './errors.js';
import { lowerCbpf, type MemoryModel } from './lower.js';
import { socketFilterProgram, tcProgram, xdpProgram } from './programs.js';

const ipv4 = [ldAbs('H', 12), jmpK(BPF_JEQ, 0x800, 0, 1), retK(262144), retK(0)];
const text = (insns: Parameters<typeof print>[0]) => print(insns);

describe('lowerCbpf', () => {
  it('lowers `ip` with direct packet access to one bounds check, a load and a 32-bit compare', () => {
    const f = lowerCbpf(ipv4, { memory: 'packet', labelPrefix: 'ip' });
    expect(f.name).toBe('ip');
    expect(f.instructions[0]!.symbol).toBe('ip');
    expect(f.helperCalls).toBe(0);
    const asm = text(f.instructions);
    expect(asm).toContain('r4 += 14');
    expect(asm).toContain('if r4 > r2 goto ip_reject');
    expect(asm).toContain('r0 = *(u16 *)(r1 + 12)');
    expect(asm).toContain('r0 = be16 r0');
    expect(asm).toMatch(/if w0 != 2048 goto ip_b3/);
  });

  it('in kernel memory copies the bytes the filter reads with one bpf_probe_read_kernel', () => {
    const f = lowerCbpf(ipv4, { memory: 'kernel' });
    expect(f.helperCalls).toBe(1);
    expect(f.copyBytes).toBe(14);
    const asm = text(f.instructions);
    const calls = f.instructions.filter((i) => i.isHelperCall);
    expect(calls.map((i) => i.imm)).toEqual([Helper.probe_read_kernel]);
    // The length check is against the copied length, kept in r2.
    expect(asm).toMatch(/if r2 < 14 goto pcap_filter_reject/);
  });

  it('zeroes the whole stack copy before the variable-size helper call (6.1 verifier rule)', () => {
    for (const memory of ['kernel', 'skb'] as const) {
      const f = lowerCbpf([ldxMsh(14), ldInd('H', 16), retA()], { memory });
      const call = f.instructions.findIndex((i) => i.isHelperCall);
      const zeroed = new Set<number>();
      for (const i of f.instructions.slice(0, call)) {
        // BPF_ST | BPF_MEM | BPF_DW through r10 with imm 0
        if (i.opcode === 0x7a && i.dst === 10 && i.imm === 0) for (let b = 0; b < 8; b++) zeroed.add(i.offset + b);
      }
      // The copy (256 bytes) plus the up-to-7-byte alignment shift all lie in zeroed stack.
      const lowest = Math.min(...zeroed);
      for (let b = lowest; b < lowest + f.copyBytes + 8; b++) expect(zeroed.has(b), `${memory}: byte ${b}`).toBe(true);
      expect(zeroed.size).toBeGreaterThanOrEqual(f.copyBytes + 8);
    }
  });

  it('copies a bounded window when loads are indexed by X', () => {
    const program = [ldxMsh(14), ldInd('H', 16), retA()];
    expect(lowerCbpf(program, { memory: 'kernel' }).copyBytes).toBe(256);
    expect(lowerCbpf(program, { memory: 'kernel', indirectWindow: 96 }).copyBytes).toBe(96);
  });

  it('in the copy models, bounds X right before adding it to the frame pointer, from an unlinked copy', () => {
    // 6.12 links `r4 = r3; r4 += 16` to r3 and wrongly narrows r3 from `if r4 > r2`; the check
    // of the copied length starts from a constant instead, and `r3 > limit` guards `r5 += r3`.
    const f = lowerCbpf([ldxMsh(14), ldInd('H', 16), retA()], { memory: 'kernel', labelPrefix: 'f' });
    const asm = text(f.instructions);
    expect(asm).not.toMatch(/r4 = r3\b/);
    expect(asm).toMatch(
      /r4 = 18\n\s*r4 \+= r3\n\s*if r4 > r2 goto f_reject\n\s*if r3 > 238 goto f_reject\n\s*r5 = r10\n\s*r5 \+= r3\n/,
    );
  });

  it("forgets X's range on protochain's back edge, so that every path reaches the loop head alike", () => {
    // ldx #40; ld [x+14]; tax; ja back to the load (a loop through X, as protochain's).
    const loop = [ldxImm(40), ldInd('B', 14), tax(), ja(-3), retK(0)];
    for (const memory of ['packet', 'kernel', 'skb'] as const) {
      const asm = text(lowerCbpf(loop, { memory, labelPrefix: 'f' }).instructions);
      // A 4-byte store that does not start an 8-byte stack slot is not tracked by the verifier.
      expect(asm, memory).toMatch(
        /if r4 > 16 goto f_reject\n\s*\*\(u32 \*\)\(r10 - 12\) = r3\n\s*r3 = \*\(u32 \*\)\(r10 - 12\)\n\s*goto f_b1/,
      );
    }
    // Straight-line filters are unchanged.
    expect(text(lowerCbpf(ipv4, { memory: 'kernel' }).instructions)).not.toContain('r10 - 12');
  });

  it('needs no helper call when the filter never reads the packet', () => {
    const f = lowerCbpf([ldImm(1), retA()], { memory: 'kernel' });
    expect(f.helperCalls).toBe(0);
    expect(text(f.instructions)).not.toContain('call');
  });

  it('inline fragments jump to the host label and keep their labels prefixed', () => {
    const f = lowerCbpf(ipv4, { memory: 'packet', form: 'inline', labelPrefix: 'flt1', resultLabel: 'after' });
    expect(f.instructions.every((i) => !i.symbol || i.symbol.startsWith('flt1_'))).toBe(true);
    expect(text(f.instructions)).toContain('goto after');
    expect(text(f.instructions)).not.toContain('exit');
    // Two fragments link into one program.
    const g = lowerCbpf(ipv4, { memory: 'packet', form: 'inline', labelPrefix: 'flt2', resultLabel: 'after' });
    expect(() => link([...f.instructions, ...g.instructions, exit().withSymbol('after')])).not.toThrow();
  });

  it('functions link as bpf-to-bpf subprograms', () => {
    const f = lowerCbpf(ipv4, { memory: 'kernel', labelPrefix: 'pcap_l2' });
    const linked = link([callFunction('pcap_l2'), exit()], { subprograms: [f.instructions] });
    expect(linked.functions.map((fn) => fn.name)).toContain('pcap_l2');
  });

  it('places the stack below the host region in the inline form', () => {
    const f = lowerCbpf(ipv4, { memory: 'kernel', form: 'inline', stackOffset: 64 });
    expect(f.stackDepth).toBeGreaterThan(64 + 88);
    expect(text(f.instructions)).not.toMatch(/r10 - (\d|[1-5]\d|6[0-4])\)/);
  });

  it('refuses ancillary loads and oversized stacks with a one-line reason', () => {
    expect(() => lowerCbpf([ldAbs('W', 0xfffff008), retA()], { memory: 'packet' })).toThrow(LoweringError);
    expect(() => lowerCbpf([ldAbs('W', 0xfffff008), retA()], { memory: 'packet' })).toThrow(/ancillary/);
    expect(() => lowerCbpf([ldxMsh(14), ldInd('B', 0), retA()], { memory: 'kernel', indirectWindow: 480 })).toThrow(
      /stack/,
    );
    expect(() => lowerCbpf(ipv4, { memory: 'packet', labelPrefix: 'bad prefix' })).toThrow(/identifier/);
  });

  it('reads up to 32 KiB with direct access and rejects beyond; copy models are bounded by the stack', () => {
    const near = lowerCbpf([ldAbs('B', 0x7ffe), retA()], { memory: 'packet' });
    expect(text(near.instructions)).toContain('r4 += 32767');
    const far = lowerCbpf([ldAbs('B', 0x8000), retA()], { memory: 'packet' });
    expect(text(far.instructions)).not.toContain('*(u8 *)');
    expect(() => lowerCbpf([ldAbs('B', 1000), retA()], { memory: 'kernel' })).toThrow(/stack/);
  });

  it('rejects outright a load no packet can satisfy (ether[-1])', () => {
    const f = lowerCbpf([ldAbs('B', 0xffffffff), jmpK(BPF_JEQ, 0, 0, 1), retK(1), retK(0)], { memory: 'packet' });
    expect(text(f.instructions)).not.toContain('ret');
    expect(f.instructions.filter((i) => i.symbol?.endsWith('_b2'))).toHaveLength(0);
  });
});

describe.each(LINKTYPES)('every corpus program lowers and links (%s)', (linktype) => {
  const programs = loadRecords(linktype).filter((r) => r.cbpf_opt_raw && !r.match_error);
  it.each<MemoryModel>(['packet', 'kernel', 'skb'])('memory model %s', (memory) => {
    for (const r of programs) {
      const f = lowerCbpf(fromTuples(r.cbpf_opt_raw!), { memory });
      expect(() => link([callFunction(f.name), exit()], { subprograms: [f.instructions] }), r.expr).not.toThrow();
      expect(f.helperCalls).toBeLessThanOrEqual(1);
    }
  });
  it('standalone socket filter, tc and xdp programs', () => {
    for (const r of programs.slice(0, 100)) {
      const cbpf = fromTuples(r.cbpf_opt_raw!);
      for (const p of [socketFilterProgram(cbpf), tcProgram(cbpf, { offset: 14 }), xdpProgram(cbpf)]) {
        const linked = link(p.instructions);
        expect(linked.instructions[linked.instructions.length - 1]!.symbol, r.expr).toBe('pcap_filter_done');
      }
    }
    expect(Mov.imm(R0, 0)).toBeDefined();
  });
});
