import type { InstructionProblemKind } from './errors.js';
import { AluOp, AtomicOp, Class, JumpOp, Mode, PseudoCall, PseudoLoad, Size, Source } from './opcode.js';

/** Why a set of raw instruction fields is not a valid eBPF instruction. */
export interface InstructionProblem {
  /** Machine-readable kind. */
  readonly kind: InstructionProblemKind;
  /** One-line description. */
  readonly detail: string;
}

const hex = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;
const problem = (kind: InstructionProblemKind, detail: string): InstructionProblem => ({ kind, detail });
const unknown = (opcode: number): InstructionProblem => problem('opcode', `unknown opcode ${hex(opcode)}`);
const reserved = (opcode: number, field: string, value: number): InstructionProblem =>
  problem('reserved', `opcode ${hex(opcode)} requires ${field} 0, got ${value}`);

const ATOMIC_IMMS = new Set<number>([
  AtomicOp.ADD,
  AtomicOp.OR,
  AtomicOp.AND,
  AtomicOp.XOR,
  AtomicOp.ADD | AtomicOp.FETCH,
  AtomicOp.OR | AtomicOp.FETCH,
  AtomicOp.AND | AtomicOp.FETCH,
  AtomicOp.XOR | AtomicOp.FETCH,
  AtomicOp.XCHG,
  AtomicOp.CMPXCHG,
]);

/**
 * Check the fields of one instruction slot against the ISA: known opcode, registers 0-10, and
 * every field the opcode reserves being zero (or one of its allowed values). Field widths
 * (16-bit offset, 32-bit imm) are assumed. Returns `undefined` when valid.
 * For LD_IMM64 only the first slot is checked here.
 */
export function checkInstruction(
  opcode: number,
  dst: number,
  src: number,
  offset: number,
  imm: number,
): InstructionProblem | undefined {
  if (dst > 10) return problem('register', `destination register r${dst} does not exist (r0-r10)`);
  const cls = opcode & 0x07;
  switch (cls) {
    case Class.ALU:
    case Class.ALU64:
      return checkAlu(opcode, cls, src, offset, imm);
    case Class.JMP:
    case Class.JMP32:
      return checkJump(opcode, cls, dst, src, offset, imm);
    default:
      return checkLoadStore(opcode, cls, dst, src, offset, imm);
  }
}

function checkSourceRegister(src: number): InstructionProblem | undefined {
  return src > 10 ? problem('register', `source register r${src} does not exist (r0-r10)`) : undefined;
}

/** Source/immediate rules shared by ALU and conditional jumps: K uses imm (src 0), X uses src (imm 0). */
function checkOperand(opcode: number, src: number, imm: number): InstructionProblem | undefined {
  if ((opcode & Source.X) === 0) return src !== 0 ? reserved(opcode, 'src', src) : undefined;
  if (imm !== 0) return reserved(opcode, 'imm', imm);
  return checkSourceRegister(src);
}

function checkAlu(
  opcode: number,
  cls: number,
  src: number,
  offset: number,
  imm: number,
): InstructionProblem | undefined {
  const op = opcode & 0xf0;
  const isX = (opcode & Source.X) !== 0;
  switch (op) {
    case AluOp.ADD:
    case AluOp.SUB:
    case AluOp.MUL:
    case AluOp.OR:
    case AluOp.AND:
    case AluOp.LSH:
    case AluOp.RSH:
    case AluOp.XOR:
    case AluOp.ARSH:
      if (offset !== 0) return reserved(opcode, 'offset', offset);
      return checkOperand(opcode, src, imm);
    case AluOp.DIV:
    case AluOp.MOD:
      if (offset !== 0 && offset !== 1)
        return problem('reserved', `opcode ${hex(opcode)} requires offset 0 or 1 (signed), got ${offset}`);
      return checkOperand(opcode, src, imm);
    case AluOp.MOV:
      if (!isX) {
        if (offset !== 0) return reserved(opcode, 'offset', offset);
        return checkOperand(opcode, src, imm);
      }
      if (cls === Class.ALU64 && offset === 1) return checkSourceRegister(src); // addr_space_cast: imm = address spaces
      if (offset !== 0 && offset !== 8 && offset !== 16 && !(offset === 32 && cls === Class.ALU64)) {
        return problem(
          'reserved',
          `opcode ${hex(opcode)} requires offset 0, 8, 16${cls === Class.ALU64 ? ', 32 or 1' : ''}, got ${offset}`,
        );
      }
      return checkOperand(opcode, src, imm);
    case AluOp.NEG:
      if (isX) return unknown(opcode);
      if (src !== 0) return reserved(opcode, 'src', src);
      if (offset !== 0) return reserved(opcode, 'offset', offset);
      if (imm !== 0) return reserved(opcode, 'imm', imm);
      return undefined;
    case AluOp.END:
      if (isX && cls === Class.ALU64) return unknown(opcode);
      if (src !== 0) return reserved(opcode, 'src', src);
      if (offset !== 0) return reserved(opcode, 'offset', offset);
      if (imm !== 16 && imm !== 32 && imm !== 64)
        return problem('reserved', `byte swap ${hex(opcode)} requires imm 16, 32 or 64, got ${imm}`);
      return undefined;
    default:
      return unknown(opcode);
  }
}

function checkJump(
  opcode: number,
  cls: number,
  dst: number,
  src: number,
  offset: number,
  imm: number,
): InstructionProblem | undefined {
  const op = opcode & 0xf0;
  const isX = (opcode & Source.X) !== 0;
  switch (op) {
    case JumpOp.JA:
      if (isX) return unknown(opcode);
      if (dst !== 0) return reserved(opcode, 'dst', dst);
      if (src !== 0) return reserved(opcode, 'src', src);
      if (cls === Class.JMP) return imm !== 0 ? reserved(opcode, 'imm', imm) : undefined;
      return offset !== 0 ? reserved(opcode, 'offset', offset) : undefined;
    case JumpOp.CALL:
      if (isX || cls === Class.JMP32) return unknown(opcode);
      if (dst !== 0) return reserved(opcode, 'dst', dst);
      if (src > PseudoCall.KFUNC)
        return problem('reserved', `call has unknown pseudo source ${src} (0 helper, 1 bpf-to-bpf, 2 kfunc)`);
      if (src !== PseudoCall.KFUNC && offset !== 0) return reserved(opcode, 'offset', offset);
      return undefined;
    case JumpOp.EXIT:
      if (isX || cls === Class.JMP32) return unknown(opcode);
      if (dst !== 0) return reserved(opcode, 'dst', dst);
      if (src !== 0) return reserved(opcode, 'src', src);
      if (offset !== 0) return reserved(opcode, 'offset', offset);
      if (imm !== 0) return reserved(opcode, 'imm', imm);
      return undefined;
    case JumpOp.JCOND:
      if (isX || cls === Class.JMP32) return unknown(opcode);
      if (dst !== 0) return reserved(opcode, 'dst', dst);
      if (src !== 0) return reserved(opcode, 'src', src);
      if (imm !== 0) return reserved(opcode, 'imm', imm);
      return undefined;
    case 0xf0:
      return unknown(opcode);
    default:
      return checkOperand(opcode, src, imm);
  }
}

function checkLoadStore(
  opcode: number,
  cls: number,
  dst: number,
  src: number,
  offset: number,
  imm: number,
): InstructionProblem | undefined {
  const mode = opcode & 0xe0;
  const size = opcode & 0x18;
  switch (cls) {
    case Class.LD:
      if (mode === Mode.IMM && size === Size.DW) {
        if (src > PseudoLoad.MAP_IDX_VALUE)
          return problem('reserved', `LD_IMM64 has unknown pseudo source ${src} (0-6)`);
        if (offset !== 0) return reserved(opcode, 'offset', offset);
        return undefined;
      }
      if ((mode === Mode.ABS || mode === Mode.IND) && size !== Size.DW) {
        if (dst !== 0) return reserved(opcode, 'dst', dst);
        if (offset !== 0) return reserved(opcode, 'offset', offset);
        if (mode === Mode.ABS) return src !== 0 ? reserved(opcode, 'src', src) : undefined;
        return checkSourceRegister(src);
      }
      return unknown(opcode);
    case Class.LDX:
      if (mode !== Mode.MEM && !(mode === Mode.MEMSX && size !== Size.DW)) return unknown(opcode);
      if (imm !== 0) return reserved(opcode, 'imm', imm);
      return checkSourceRegister(src);
    case Class.ST:
      if (mode !== Mode.MEM) return unknown(opcode);
      return src !== 0 ? reserved(opcode, 'src', src) : undefined;
    default: // STX
      if (mode === Mode.MEM) {
        if (imm !== 0) return reserved(opcode, 'imm', imm);
        return checkSourceRegister(src);
      }
      if (mode === Mode.ATOMIC) {
        if (imm === AtomicOp.LOAD_ACQ || imm === AtomicOp.STORE_REL) return checkSourceRegister(src);
        if (size !== Size.W && size !== Size.DW) {
          return problem(
            'reserved',
            `atomic ${hex(opcode)} on ${size === Size.B ? 1 : 2} bytes must be load_acquire (imm 0x100) or store_release (0x110), got imm ${hex(imm >>> 0)}`,
          );
        }
        if (!ATOMIC_IMMS.has(imm))
          return problem('reserved', `atomic ${hex(opcode)} has unknown operation imm ${hex(imm >>> 0)}`);
        return checkSourceRegister(src);
      }
      return unknown(opcode);
  }
}

/** Check the second slot of an LD_IMM64: everything but imm must be zero. */
export function checkSecondSlot(opcode: number, regs: number, offset: number): InstructionProblem | undefined {
  if (opcode !== 0) return problem('reserved', `second slot of LD_IMM64 must have opcode 0, got ${hex(opcode)}`);
  if (regs !== 0) return problem('reserved', `second slot of LD_IMM64 must have registers 0, got ${hex(regs)}`);
  if (offset !== 0) return problem('reserved', `second slot of LD_IMM64 must have offset 0, got ${offset}`);
  return undefined;
}
