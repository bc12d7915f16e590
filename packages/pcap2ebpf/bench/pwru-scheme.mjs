// Bench-only model of pwru's kernel-memory scheme, for a side-by-side timing: take our direct-access
// lowering (guards compare against the packet end as plain addresses) and turn every packet load into
// a bpf_probe_read_kernel() of that many bytes into a stack slot, saving and restoring R0-R5 around
// the call, as pwru does to cbpfc's output. Not part of the library.
import { Add, call, Helper, LoadMem, Mov, R0, R1, R2, R3, R4, R5, R10, StoreMem } from 'bpf-asm-ts';

const LDX_MEM = 0x01 | 0x60;
const SIZE = { 0x00: ['u32', 4], 0x08: ['u16', 2], 0x10: ['u8', 1] };
const SAVE = [R0, R1, R2, R3, R4, R5];
const slot = (r) => -(96 + 8 * (r + 1)); // below the filter's own stack (88 bytes)
const BUF = -160;

/** Rewrites the packet loads (from the packet start R1 or the indirect pointer R5) of a lowered filter. */
export function perLoadProbeReads(instructions) {
  // The saves below touch every register: give the ones the filter may not have set a value.
  const out = [Mov.imm(R4, 0).withSymbol(instructions[0].symbol), Mov.imm(R5, 0)];
  instructions = [instructions[0].withSymbol(undefined), ...instructions.slice(1)];
  for (const insn of instructions) {
    const isPacketLoad =
      (insn.opcode & 0xe7) === LDX_MEM && (insn.src === R1 || insn.src === R5) && SIZE[insn.opcode & 0x18];
    if (!isPacketLoad) {
      out.push(insn);
      continue;
    }
    const [size, bytes] = SIZE[insn.opcode & 0x18];
    const keep = SAVE.filter((r) => r !== insn.dst);
    const seq = [
      ...keep.map((r) => StoreMem(R10, slot(r), r, 'u64')),
      Mov.reg(R3, insn.src),
      Add.imm(R3, insn.offset),
      Mov.reg(R1, R10),
      Add.imm(R1, BUF),
      Mov.imm(R2, bytes),
      call(Helper.probe_read_kernel),
      LoadMem(insn.dst, R10, BUF, size),
      ...keep.map((r) => LoadMem(r, R10, slot(r), 'u64')),
    ];
    if (insn.symbol) seq[0] = seq[0].withSymbol(insn.symbol);
    out.push(...seq);
  }
  return out;
}
