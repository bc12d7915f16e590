import { helperName } from '../helper.js';
import type { Instruction } from '../instruction.js';
import {
  AluOp,
  AtomicOp,
  Class,
  Endian,
  JumpOp,
  LD_IMM64,
  Mode,
  PseudoCall,
  PseudoLoad,
  Size,
  Source,
} from '../opcode.js';
import { ALU_OPERATORS, ATOMIC_FETCH_NAMES, ATOMIC_OPERATORS, JUMP_OPERATORS, SIZE_NAMES } from './syntax.js';

/** Options of {@link formatInstruction} and {@link print}. */
export interface PrintOptions {
  /** Print helper calls by name (`call bpf_map_lookup_elem`) instead of id (`call 1`, LLVM's form). Default false. */
  readonly helperNames?: boolean;
  /** Prefix each line with its slot index and opcode as the verifier log does (`4: (85) call 1`). Default false. */
  readonly numbered?: boolean;
  /** Print instruction comments after `#`. Default true. */
  readonly comments?: boolean;
  /** Print `label:` lines for symbols and jump/call references by name. Default true. */
  readonly labels?: boolean;
}

const signed = (n: number): string => (n < 0 ? `- ${-n}` : `+ ${n}`);
const rel = (n: number): string => (n < 0 ? `${n}` : `+${n}`);
const mem = (size: number, base: number, offset: number): string =>
  `*(${SIZE_NAMES.get(size)} *)(r${base} ${signed(offset)})`;

/**
 * One instruction in LLVM's BPF assembly syntax (`r0 = *(u32 *)(r1 + 8)`, `if w1 s< 5 goto +2`,
 * `r1 = 4886718345 ll`), without label or comment. References print by name when `labels` is on.
 */
export function formatInstruction(insn: Instruction, options: PrintOptions = {}): string {
  const { opcode, dst, src, offset, imm } = insn;
  const useNames = options.labels !== false;
  const cls = opcode & 0x07;
  const op = opcode & 0xf0;
  const isX = (opcode & Source.X) !== 0;
  switch (cls) {
    case Class.ALU:
    case Class.ALU64: {
      const r = cls === Class.ALU64 ? 'r' : 'w';
      const source = isX ? `${r}${src}` : `${imm}`;
      switch (op) {
        case AluOp.NEG:
          return `${r}${dst} = -${r}${dst}`;
        case AluOp.END:
          if (cls === Class.ALU64) return `r${dst} = bswap${imm} r${dst}`;
          return `r${dst} = ${(opcode & Endian.TO_BE) !== 0 ? 'be' : 'le'}${imm} r${dst}`;
        case AluOp.MOV:
          if (isX && offset === 1 && cls === Class.ALU64)
            return `r${dst} = addr_space_cast(r${src}, ${imm >>> 16}, ${imm & 0xffff})`;
          if (isX && offset !== 0) return `${r}${dst} = (s${offset})${r}${src}`;
          return `${r}${dst} = ${source}`;
        case AluOp.DIV:
        case AluOp.MOD:
          return `${r}${dst} ${offset === 1 ? 's' : ''}${ALU_OPERATORS.get(op)} ${source}`;
        default:
          return `${r}${dst} ${ALU_OPERATORS.get(op) ?? '?='} ${source}`;
      }
    }
    case Class.JMP:
    case Class.JMP32: {
      const target = useNames && insn.reference !== undefined ? insn.reference : rel(offset);
      switch (op) {
        case JumpOp.JA:
          if (cls === Class.JMP32)
            return `gotol ${useNames && insn.reference !== undefined ? insn.reference : rel(imm)}`;
          return `goto ${target}`;
        case JumpOp.EXIT:
          return 'exit';
        case JumpOp.JCOND:
          return `may_goto ${target}`;
        case JumpOp.CALL:
          return formatCall(insn, options);
        default: {
          const r = cls === Class.JMP ? 'r' : 'w';
          return `if ${r}${dst} ${JUMP_OPERATORS.get(op) ?? '?'} ${isX ? `${r}${src}` : imm} goto ${target}`;
        }
      }
    }
    case Class.LD:
      if (opcode === LD_IMM64) return formatLoadImm64(insn, useNames);
      if ((opcode & 0xe0) === Mode.ABS) return `r0 = *(${SIZE_NAMES.get(opcode & 0x18)} *)skb[${imm}]`;
      return `r0 = *(${SIZE_NAMES.get(opcode & 0x18)} *)skb[r${src}${imm === 0 ? '' : ` ${signed(imm)}`}]`;
    case Class.LDX:
      if ((opcode & 0xe0) === Mode.MEMSX) {
        return `r${dst} = *(s${SIZE_NAMES.get(opcode & 0x18)!.slice(1)} *)(r${src} ${signed(offset)})`;
      }
      return `r${dst} = ${mem(opcode & 0x18, src, offset)}`;
    case Class.ST:
      return `${mem(opcode & 0x18, dst, offset)} = ${imm}`;
    default: {
      // STX
      const size = opcode & 0x18;
      if ((opcode & 0xe0) !== Mode.ATOMIC) return `${mem(size, dst, offset)} = r${src}`;
      const r = size === Size.DW ? 'r' : 'w';
      if (imm === AtomicOp.LOAD_ACQ)
        return `${r}${dst} = load_acquire((${SIZE_NAMES.get(size)} *)(r${src} ${signed(offset)}))`;
      if (imm === AtomicOp.STORE_REL)
        return `store_release((${SIZE_NAMES.get(size)} *)(r${dst} ${signed(offset)}), ${r}${src})`;
      const bits = size === Size.DW ? '64' : '32';
      const at = `r${dst} ${signed(offset)}`;
      if (imm === AtomicOp.XCHG) return `${r}${src} = xchg${bits === '64' ? '' : '32'}_${bits}(${at}, ${r}${src})`;
      if (imm === AtomicOp.CMPXCHG)
        return `${r}0 = cmpxchg${bits === '64' ? '' : '32'}_${bits}(${at}, ${r}0, ${r}${src})`;
      const fetch = ATOMIC_FETCH_NAMES.get(imm);
      if (fetch !== undefined) return `${r}${src} = ${fetch}((u${bits} *)(${at}), ${r}${src})`;
      return `lock ${mem(size, dst, offset)} ${ATOMIC_OPERATORS.get(imm) ?? '?='} ${r}${src}`;
    }
  }
}

function formatCall(insn: Instruction, options: PrintOptions): string {
  const useNames = options.labels !== false;
  if (insn.src === PseudoCall.CALL) {
    return useNames && insn.reference !== undefined ? `call ${insn.reference}` : `call pc${rel(insn.imm)}`;
  }
  if (insn.src === PseudoCall.KFUNC) {
    if (useNames && insn.reference !== undefined) return `call ${insn.reference}`;
    return `call kfunc#${insn.imm}${insn.offset !== 0 ? `@${insn.offset}` : ''}`;
  }
  if (options.helperNames) {
    const name = helperName(insn.imm);
    if (name !== undefined) return `call ${name}`;
  }
  return `call ${insn.imm}`;
}

function formatLoadImm64(insn: Instruction, useNames: boolean): string {
  const { dst, src, imm } = insn;
  const high = insn.immHigh;
  if (useNames && insn.reference !== undefined) {
    if (src === PseudoLoad.MAP_FD || src === PseudoLoad.FUNC) return `r${dst} = ${insn.reference} ll`;
    if (src === PseudoLoad.MAP_VALUE) return `r${dst} = ${insn.reference} ${signed(high)} ll`;
    return `ld_pseudo r${dst}, ${src}, ${insn.reference}${high !== 0 ? `, ${high}` : ''}`;
  }
  if (src === PseudoLoad.IMM) return `r${dst} = ${insn.constant} ll`;
  return `ld_pseudo r${dst}, ${src}, ${imm}${high !== 0 ? `, ${high}` : ''}`;
}

/**
 * A whole program, one instruction per line: `label:` lines before instructions carrying a
 * symbol, `# comment` after instructions carrying a comment, and optionally verifier-style slot
 * numbers. The output assembles back to the same instructions ({@link assemble}).
 */
export function print(insns: readonly Instruction[], options: PrintOptions = {}): string {
  let out = '';
  printTo(insns, (chunk) => (out += chunk), options);
  return out;
}

/**
 * Like {@link print}, but hands the text to `write` in chunks of about 64 KiB, so a large
 * program can be streamed (e.g. to `process.stdout.write`) without building one huge string.
 */
export function printTo(
  insns: readonly Instruction[],
  write: (chunk: string) => void,
  options: PrintOptions = {},
): void {
  const labels = options.labels !== false;
  const comments = options.comments !== false;
  let chunk = '';
  let slot = 0;
  for (const insn of insns) {
    if (insn.symbol !== undefined && labels) {
      chunk += `${insn.symbol}:\n`;
      if (insn.aliases !== undefined) for (const alias of insn.aliases) chunk += `${alias}:\n`;
    }
    const text = formatInstruction(insn, options);
    chunk += options.numbered ? `${slot}: (${insn.opcode.toString(16).padStart(2, '0')}) ${text}` : `\t${text}`;
    if (insn.comment !== undefined && comments) chunk += `\t# ${insn.comment.replace(/\n/g, ' ')}`;
    chunk += '\n';
    slot += insn.slots;
    if (chunk.length >= 65536) {
      write(chunk);
      chunk = '';
    }
  }
  if (chunk !== '') write(chunk);
}
