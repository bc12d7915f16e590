/**
 * Static facts about a classic BPF program that the eBPF lowering needs: how far into the
 * packet it reads, whether it indexes by X, reads the length, loops, or may read a scratch
 * word before writing it.
 */
import type { CbpfInstruction } from '../cbpf/instruction.js';
import { SKF_AD_OFF, loadWidth } from '../cbpf/opcode.js';

/** One past the last Linux ancillary offset (`SKF_AD_OFF + SKF_AD_MAX`). */
const SKF_AD_END = SKF_AD_OFF + 64;
/** Loads reaching past this offset can never succeed on a real packet: they always reject. */
export const MAX_PACKET_END = 0xffff;
import { successors } from '../cbpf/validate.js';

/** What a program touches. */
export interface ProgramFacts {
  /**
   * One past the last byte an absolute load (or `ldxb 4*([k]&0xf)`) reads; 0 if none. Loads
   * past {@link MAX_PACKET_END} (e.g. `ether[-1]`) are left out: they always reject.
   */
  absoluteEnd: number;
  /** True if some load is `[x + k]`. */
  indirect: boolean;
  /** Largest `k + size` of the indirect loads (0 if none). */
  indirectEnd: number;
  /** True if the program reads the packet at all. */
  readsPacket: boolean;
  /** True if it uses `ld #pktlen` / `ldx #pktlen`. */
  readsLength: boolean;
  /** True if some `ja` jumps backwards (protochain). */
  loops: boolean;
  /** Bit k set: M[k] may be read before it is written on some path. */
  uninitializedScratch: number;
  /** Index of an ancillary load (`[SKF_AD_OFF + n]`), or -1. */
  ancillaryAt: number;
}

/** Computes {@link ProgramFacts}. */
export function analyze(program: readonly CbpfInstruction[]): ProgramFacts {
  const facts: ProgramFacts = {
    absoluteEnd: 0,
    indirect: false,
    indirectEnd: 0,
    readsPacket: false,
    readsLength: false,
    loops: false,
    uninitializedScratch: 0,
    ancillaryAt: -1,
  };
  program.forEach((insn, pc) => {
    const k = insn.k >>> 0;
    switch (insn.code) {
      case 0x20:
      case 0x28:
      case 0x30:
        if (k >= SKF_AD_OFF && k < SKF_AD_END) {
          if (facts.ancillaryAt < 0) facts.ancillaryAt = pc;
          break;
        }
        if (k + loadWidth(insn.code) > MAX_PACKET_END) break;
        facts.readsPacket = true;
        facts.absoluteEnd = Math.max(facts.absoluteEnd, k + loadWidth(insn.code));
        break;
      case 0xb1:
        if (k + 1 > MAX_PACKET_END) break;
        facts.readsPacket = true;
        facts.absoluteEnd = Math.max(facts.absoluteEnd, k + 1);
        break;
      case 0x40:
      case 0x48:
      case 0x50:
        facts.readsPacket = true;
        facts.indirect = true;
        facts.indirectEnd = Math.max(facts.indirectEnd, k + loadWidth(insn.code));
        break;
      case 0x80:
      case 0x81:
        facts.readsLength = true;
        break;
      case 0x05:
        if ((insn.k | 0) < 0) facts.loops = true;
        break;
    }
  });
  facts.uninitializedScratch = maybeUninitializedReads(program);
  return facts;
}

/** Scratch words some path may read before writing (forward must-write analysis, loops included). */
function maybeUninitializedReads(program: readonly CbpfInstruction[]): number {
  const n = program.length;
  const written = new Array<number>(n).fill(0xffff);
  const reached = new Array<boolean>(n).fill(false);
  written[0] = 0;
  reached[0] = true;
  const work = [0];
  while (work.length > 0) {
    const pc = work.pop()!;
    const insn = program[pc]!;
    let out = written[pc]!;
    if (insn.code === 0x02 || insn.code === 0x03) out |= 1 << insn.k;
    for (const s of successors(program, pc)) {
      if (s < 0 || s >= n) continue;
      const merged = reached[s] ? written[s]! & out : out;
      if (!reached[s] || merged !== written[s]) {
        reached[s] = true;
        written[s] = merged;
        work.push(s);
      }
    }
  }
  let mask = 0;
  program.forEach((insn, pc) => {
    if (reached[pc] && (insn.code === 0x60 || insn.code === 0x61) && (written[pc]! & (1 << insn.k)) === 0)
      mask |= 1 << insn.k;
  });
  return mask;
}
