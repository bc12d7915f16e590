/** Parsing of one LLVM-syntax statement (everything after the labels on a line) into an instruction. */
import { Instruction } from '../instruction.js';
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
import type { Register } from '../register.js';
import type { Cursor, ParsedRegister } from './cursor.js';
import { ALU_OPERATORS, ATOMIC_FETCH_NAMES, ATOMIC_OPERATORS, JUMP_OPERATORS } from './syntax.js';

const ALU_BY_OPERATOR = new Map([...ALU_OPERATORS].map(([op, s]) => [s, op]));
const JUMP_BY_OPERATOR = new Map([...JUMP_OPERATORS].map(([op, s]) => [s, op]));
const ATOMIC_BY_OPERATOR = new Map([...ATOMIC_OPERATORS].map(([op, s]) => [s, op]));
const ATOMIC_FETCH_BY_NAME = new Map([...ATOMIC_FETCH_NAMES].map(([op, s]) => [s, op]));
const SIZE_BY_NAME = new Map<string, number>([
  ['u8', Size.B],
  ['u16', Size.H],
  ['u32', Size.W],
  ['u64', Size.DW],
]);
const SIGNED_SIZE_BY_NAME = new Map<string, number>([
  ['s8', Size.B],
  ['s16', Size.H],
  ['s32', Size.W],
]);
/** A symbolic call or 64-bit load whose meaning is decided once every label is known. */
export interface Pending {
  readonly index: number;
  readonly name: string;
  readonly kind: 'call' | 'load';
}

/** A jump target: `+N`, `-N`, `N`, `pc+N` (as the verifier log writes it), or a label. */
function jumpTarget(cur: Cursor, long: boolean): { offset: number; reference?: string } {
  const t = cur.peek();
  if (t?.kind === 'ident' && t.text === 'pc' && (cur.is('+', 1) || cur.is('-', 1)))
    cur.i++; // verifier log: goto pc+3
  else if (t?.kind === 'ident') {
    cur.i++;
    return { offset: 0, reference: t.text };
  }
  return { offset: long ? cur.imm32('a jump offset') : cur.off16('a jump offset') };
}

function memoryOperand(cur: Cursor): { size: number; base: Register; offset: number; signed: boolean } {
  // *(u32 *)(r1 + 8)   — the leading '*' already consumed by the caller
  cur.expect('(');
  const sizeTok = cur.ident('a size (u8, u16, u32, u64)');
  const size = SIZE_BY_NAME.get(sizeTok.text) ?? SIGNED_SIZE_BY_NAME.get(sizeTok.text);
  if (size === undefined) cur.fail(`unknown size '${sizeTok.text}' (u8, u16, u32, u64, s8, s16, s32)`, sizeTok.column);
  cur.expect('*');
  cur.expect(')');
  cur.expect('(');
  const { base, offset } = addressInside(cur);
  cur.expect(')');
  return { size, base, offset, signed: sizeTok.text.startsWith('s') };
}

/** `r1 + 8`, `r1 - 8`, or `r1` inside parentheses. */
function addressInside(cur: Cursor): { base: Register; offset: number } {
  const base = cur.register();
  if (!base.wide) cur.fail(`address register must be r${base.n}, not w${base.n}`);
  let offset = 0;
  if (cur.is('+') || cur.is('-')) offset = cur.off16('a memory offset');
  return { base: base.n, offset };
}

/**
 * Parse the statement at the cursor into one instruction. Symbolic calls and `rN = NAME ll`
 * loads are recorded in `pending` for the caller to settle once all labels are known.
 */
export function parseStatement(cur: Cursor, index: number, pending: Pending[]): Instruction {
  const t = cur.peek()!;
  if (t.kind === 'ident') {
    switch (t.text) {
      case 'exit':
        cur.i++;
        return new Instruction(Class.JMP | JumpOp.EXIT, 0, 0, 0, 0);
      case 'goto':
      case 'may_goto': {
        cur.i++;
        const target = jumpTarget(cur, false);
        const opcode = t.text === 'goto' ? Class.JMP | JumpOp.JA : Class.JMP | JumpOp.JCOND;
        return new Instruction(opcode, 0, 0, target.offset, 0, undefined, { reference: target.reference });
      }
      case 'gotol': {
        cur.i++;
        const target = jumpTarget(cur, true);
        return new Instruction(Class.JMP32 | JumpOp.JA, 0, 0, 0, target.offset, undefined, {
          reference: target.reference,
        });
      }
      case 'call':
        cur.i++;
        return parseCall(cur, index, pending);
      case 'if':
        cur.i++;
        return parseConditional(cur);
      case 'lock':
        cur.i++;
        return parseLockedAtomic(cur);
      case 'ld_pseudo':
        cur.i++;
        return parseLdPseudo(cur);
      case 'store_release':
        cur.i++;
        return parseStoreRelease(cur);
    }
    if (cur.isRegister()) return parseRegisterStatement(cur, index, pending);
    if (/^[rw][0-9]+$/.test(t.text)) cur.fail(`register '${t.text}' does not exist (r0-r10, w0-w10)`);
    cur.fail(`unknown instruction '${t.text}'`);
  }
  if (t.text === '*') {
    cur.i++;
    const m = memoryOperand(cur);
    if (m.signed) cur.fail('stores take an unsigned size (u8, u16, u32, u64)');
    cur.expect('=');
    if (cur.isRegister()) {
      const src = cur.register();
      return new Instruction(Class.STX | Mode.MEM | m.size, m.base, src.n, m.offset, 0);
    }
    return new Instruction(Class.ST | Mode.MEM | m.size, m.base, 0, m.offset, cur.imm32());
  }
  cur.fail(`unexpected '${t.text}' at start of instruction`);
}

function parseCall(cur: Cursor, index: number, pending: Pending[]): Instruction {
  const CALL = Class.JMP | JumpOp.CALL;
  const t = cur.peek();
  if (t?.kind === 'ident' && t.text === 'pc' && (cur.is('+', 1) || cur.is('-', 1))) {
    cur.i++;
    return new Instruction(CALL, 0, PseudoCall.CALL, 0, cur.imm32('a call offset'));
  }
  if (t?.kind === 'ident' && t.text === 'kfunc' && cur.is('#', 1)) {
    cur.i += 2;
    const id = cur.imm32('a BTF id');
    const module = cur.accept('@') ? cur.off16('a module BTF index') : 0;
    return new Instruction(CALL, 0, PseudoCall.KFUNC, module, id);
  }
  if (t?.kind === 'ident') {
    cur.i++;
    pending.push({ index, name: t.text, kind: 'call' });
    return new Instruction(CALL, 0, PseudoCall.HELPER, 0, 0, undefined, { reference: t.text });
  }
  return new Instruction(CALL, 0, PseudoCall.HELPER, 0, cur.imm32('a helper id'));
}

function parseConditional(cur: Cursor): Instruction {
  const dst = cur.register();
  const opTok = cur.next('a comparison');
  const op = JUMP_BY_OPERATOR.get(opTok.text);
  if (op === undefined) cur.fail(`unknown comparison '${opTok.text}'`, opTok.column);
  const cls = dst.wide ? Class.JMP : Class.JMP32;
  let instruction: { opcode: number; src: Register; imm: number };
  if (cur.isRegister()) {
    const srcColumn = cur.column();
    const src = cur.register();
    if (src.wide !== dst.wide)
      cur.fail(`mixed register widths: ${dst.wide ? 'r' : 'w'}${dst.n} and ${src.wide ? 'r' : 'w'}${src.n}`, srcColumn);
    instruction = { opcode: cls | op | Source.X, src: src.n, imm: 0 };
  } else {
    instruction = { opcode: cls | op | Source.K, src: 0, imm: cur.imm32() };
  }
  const gotoTok = cur.ident("'goto'");
  if (gotoTok.text !== 'goto') cur.fail(`expected 'goto', found '${gotoTok.text}'`, gotoTok.column);
  const target = jumpTarget(cur, false);
  return new Instruction(instruction.opcode, dst.n, instruction.src, target.offset, instruction.imm, undefined, {
    reference: target.reference,
  });
}

function parseLockedAtomic(cur: Cursor): Instruction {
  cur.expect('*');
  const m = memoryOperand(cur);
  if (m.size !== Size.W && m.size !== Size.DW) cur.fail('atomic operations take u32 or u64');
  const opTok = cur.next('an atomic operator');
  const op = ATOMIC_BY_OPERATOR.get(opTok.text);
  if (op === undefined) cur.fail(`unknown atomic operator '${opTok.text}' (+=, |=, &=, ^=)`, opTok.column);
  const src = cur.register();
  return new Instruction(Class.STX | Mode.ATOMIC | m.size, m.base, src.n, m.offset, op);
}

function parseLdPseudo(cur: Cursor): Instruction {
  const dst = cur.register();
  cur.expect(',');
  const srcColumn = cur.column();
  const src = cur.integer('a pseudo source');
  if (src < 0n || src > 6n) cur.fail(`pseudo source ${src} is not 0-6`, srcColumn);
  cur.expect(',');
  let reference: string | undefined;
  let low = 0;
  if (cur.peek()?.kind === 'ident') reference = cur.next('a symbol').text;
  else low = cur.imm32();
  const high = cur.accept(',') ? cur.imm32() : 0;
  const constant = (BigInt(high) << 32n) | BigInt(low >>> 0);
  return new Instruction(LD_IMM64, dst.n, Number(src) as Register, 0, 0, constant, { reference });
}

function parseRegisterStatement(cur: Cursor, index: number, pending: Pending[]): Instruction {
  const dst = cur.register();
  const cls = dst.wide ? Class.ALU64 : Class.ALU;
  const opTok = cur.next('an operator');
  if (opTok.text === 's/=' || opTok.text === 's%=') {
    return aluOperand(cur, dst, cls, opTok.text === 's/=' ? AluOp.DIV : AluOp.MOD, 1);
  }
  const aluOp = ALU_BY_OPERATOR.get(opTok.text);
  if (aluOp !== undefined) return aluOperand(cur, dst, cls, aluOp, 0);
  if (opTok.text !== '=') cur.fail(`unknown operator '${opTok.text}'`, opTok.column);

  const t = cur.peek();
  if (t === undefined) cur.fail('expected a value after =');
  // dst = -dst
  if (t.text === '-' && cur.isRegister(1)) {
    cur.i++;
    const src = cur.register();
    if (src.n !== dst.n || src.wide !== dst.wide) cur.fail('negation must have the same register on both sides');
    return new Instruction(cls | AluOp.NEG, dst.n, 0, 0, 0);
  }
  // dst = (s8)src
  if (t.text === '(' && cur.peek(1)?.kind === 'ident' && cur.is(')', 2)) {
    cur.i++;
    const widthTok = cur.next('a width');
    const bits = { s8: 8, s16: 16, s32: 32 }[widthTok.text];
    if (bits === undefined || (bits === 32 && !dst.wide))
      cur.fail(`unknown sign extension '(${widthTok.text})'`, widthTok.column);
    cur.expect(')');
    const src = cur.register();
    if (src.wide !== dst.wide) cur.fail('sign-extending move needs the same register width on both sides');
    return new Instruction(cls | AluOp.MOV | Source.X, dst.n, src.n, bits, 0);
  }
  // dst = *(size *)(src + off)  |  r0 = *(size *)skb[...]
  if (t.text === '*') {
    cur.i++;
    if (cur.is('(') && cur.peek(1)?.kind === 'ident' && cur.is('*', 2) && cur.is(')', 3) && cur.is('skb', 4)) {
      return parseLegacyLoad(cur, dst);
    }
    const m = memoryOperand(cur);
    if (m.signed) return new Instruction(Class.LDX | Mode.MEMSX | m.size, dst.n, m.base, m.offset, 0);
    return new Instruction(Class.LDX | Mode.MEM | m.size, dst.n, m.base, m.offset, 0);
  }
  if (t.kind === 'ident' && !cur.isRegister()) {
    const swap = /^(be|le|bswap)(16|32|64)$/.exec(t.text);
    if (swap !== null) {
      cur.i++;
      const srcColumn = cur.column();
      const src = cur.register();
      if (!dst.wide || !src.wide || src.n !== dst.n)
        cur.fail(`byte swap must be written r${dst.n} = ${t.text} r${dst.n}`, srcColumn);
      const bits = Number(swap[2]);
      if (swap[1] === 'bswap') return new Instruction(Class.ALU64 | AluOp.END, dst.n, 0, 0, bits);
      return new Instruction(
        Class.ALU | AluOp.END | (swap[1] === 'be' ? Endian.TO_BE : Endian.TO_LE),
        dst.n,
        0,
        0,
        bits,
      );
    }
    if (t.text === 'addr_space_cast' && cur.is('(', 1)) {
      cur.i += 2;
      const src = cur.register();
      cur.expect(',');
      const to = cur.imm32();
      cur.expect(',');
      const from = cur.imm32();
      cur.expect(')');
      if (to < 0 || to > 0xffff || from < 0 || from > 0xffff) cur.fail('address spaces must fit 16 bits');
      return new Instruction(Class.ALU64 | AluOp.MOV | Source.X, dst.n, src.n, 1, (to << 16) | from);
    }
    if (t.text === 'load_acquire') return parseLoadAcquire(cur, dst);
    if (/^atomic(64)?_(fetch_(add|or|and|xor)|xchg|cmpxchg)$/.test(t.text)) return parseTypedAtomic(cur, dst, t.text);
    if (/^(xchg|cmpxchg)(32_32|_64)$/.test(t.text)) return parseExchange(cur, dst, t.text);
    // dst = symbol ll  |  dst = symbol + off ll
    cur.i++;
    let offset: number | undefined;
    if (cur.is('+') || cur.is('-')) offset = cur.imm32('a map value offset');
    const ll = cur.ident("'ll'");
    if (ll.text !== 'll') cur.fail(`expected 'll', found '${ll.text}'`, ll.column);
    if (!dst.wide) cur.fail('64-bit loads need an r register');
    if (offset === undefined) {
      pending.push({ index, name: t.text, kind: 'load' });
      return new Instruction(LD_IMM64, dst.n, PseudoLoad.MAP_FD, 0, 0, 0n, { reference: t.text });
    }
    return new Instruction(LD_IMM64, dst.n, PseudoLoad.MAP_VALUE, 0, 0, BigInt(offset) << 32n, { reference: t.text });
  }
  if (cur.isRegister()) {
    const srcColumn = cur.column();
    const src = cur.register();
    if (src.wide !== dst.wide)
      cur.fail(`mixed register widths: ${dst.wide ? 'r' : 'w'}${dst.n} and ${src.wide ? 'r' : 'w'}${src.n}`, srcColumn);
    return new Instruction(cls | AluOp.MOV | Source.X, dst.n, src.n, 0, 0);
  }
  // dst = imm  |  dst = imm ll
  const column = cur.column();
  const value = cur.integerValue('a value');
  if (cur.peek()?.text === 'll' || (cur.loadImm64Hint && dst.wide)) {
    if (cur.peek()?.text === 'll') cur.i++;
    if (!dst.wide) cur.fail('64-bit loads need an r register', column);
    const big = BigInt(value);
    if (big < -(1n << 63n) || big >= 1n << 64n) cur.fail(`${value} does not fit 64 bits`, column);
    return new Instruction(LD_IMM64, dst.n, PseudoLoad.IMM, 0, 0, big);
  }
  if (value < -0x80000000 || value > 0xffffffff)
    cur.fail(`immediate ${value} does not fit 32 bits (add 'll' for a 64-bit load)`, column);
  return new Instruction(cls | AluOp.MOV | Source.K, dst.n, 0, 0, Number(value) | 0);
}

function aluOperand(cur: Cursor, dst: ParsedRegister, cls: number, op: number, offset: number): Instruction {
  if (cur.isRegister()) {
    const srcColumn = cur.column();
    const src = cur.register();
    if (src.wide !== dst.wide)
      cur.fail(`mixed register widths: ${dst.wide ? 'r' : 'w'}${dst.n} and ${src.wide ? 'r' : 'w'}${src.n}`, srcColumn);
    return new Instruction(cls | op | Source.X, dst.n, src.n, offset, 0);
  }
  return new Instruction(cls | op | Source.K, dst.n, 0, offset, cur.imm32());
}

function parseLegacyLoad(cur: Cursor, dst: ParsedRegister): Instruction {
  // *(u8 *)skb[8]  |  *(u16 *)skb[r1]  |  *(u16 *)skb[r1 + 4]
  cur.expect('(');
  const sizeTok = cur.ident('a size');
  const size = SIZE_BY_NAME.get(sizeTok.text);
  if (size === undefined || size === Size.DW)
    cur.fail(`legacy packet loads take u8, u16 or u32, not '${sizeTok.text}'`, sizeTok.column);
  cur.expect('*');
  cur.expect(')');
  cur.next('skb');
  cur.expect('[');
  if (dst.n !== 0 || !dst.wide) cur.fail('legacy packet loads always load into r0');
  let instruction: Instruction;
  if (cur.isRegister()) {
    const src = cur.register();
    const imm = cur.is('+') || cur.is('-') ? cur.imm32('a packet offset') : 0;
    instruction = new Instruction(Class.LD | Mode.IND | size, 0, src.n, 0, imm);
  } else {
    instruction = new Instruction(Class.LD | Mode.ABS | size, 0, 0, 0, cur.imm32('a packet offset'));
  }
  cur.expect(']');
  return instruction;
}

/**
 * Typed-address atomics returning a value: LLVM's `atomic_fetch_add((u64 *)(r1 + 0), r0)` and the
 * verifier log's spellings (`atomic64_fetch_add`, `atomic64_xchg((u64 *)(r1 +0), r0)`,
 * `atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)`; without `64` for u32, where the log writes r
 * registers and LLVM w registers).
 */
function parseTypedAtomic(cur: Cursor, dst: ParsedRegister, name: string): Instruction {
  const nameTok = cur.next('an atomic');
  const m = /^atomic(64)?_(?:fetch_(add|or|and|xor)|(xchg|cmpxchg))$/.exec(name)!;
  cur.expect('(');
  const sizeColumn = cur.column() + 1;
  const { size, base, offset } = typedAddress(cur);
  if (size !== Size.W && size !== Size.DW) cur.fail('atomic operations take u32 or u64', sizeColumn);
  if (m[1] !== undefined && size !== Size.DW) cur.fail(`${name} works on u64`, nameTok.column);
  if (size === Size.DW && !dst.wide) cur.fail(`a u64 atomic returns into an r register, not w${dst.n}`, nameTok.column);
  cur.expect(',');
  const second = cur.register();
  let src = second;
  let op: number;
  if (m[3] === 'cmpxchg') {
    if (dst.n !== 0 || second.n !== 0)
      cur.fail('cmpxchg compares and returns in r0: write r0 = atomic64_cmpxchg((u64 *)(rX + off), r0, rY)');
    cur.expect(',');
    src = cur.register();
    op = AtomicOp.CMPXCHG;
  } else {
    if (second.n !== dst.n)
      cur.fail('fetching atomics return into their source register: write the same register on both sides');
    op = m[3] === 'xchg' ? AtomicOp.XCHG : ATOMIC_FETCH_BY_NAME.get(`atomic_fetch_${m[2]}`)!;
  }
  cur.expect(')');
  return new Instruction(Class.STX | Mode.ATOMIC | size, base, src.n, offset, op);
}

function parseExchange(cur: Cursor, dst: ParsedRegister, name: string): Instruction {
  // dst = xchg_64(r1 + 0, dst)  |  r0 = cmpxchg_64(r1 + 0, r0, src)
  const nameTok = cur.next('xchg');
  const is64 = name.endsWith('_64');
  if (is64 !== dst.wide) cur.fail(`${name} needs ${is64 ? 'r' : 'w'} registers`, nameTok.column);
  cur.expect('(');
  const { base, offset } = addressInside(cur);
  cur.expect(',');
  const second = cur.register();
  let src = second;
  if (name.startsWith('cmpxchg')) {
    if (dst.n !== 0 || second.n !== 0)
      cur.fail('cmpxchg compares and returns in r0: write r0 = cmpxchg_64(rX + off, r0, rY)');
    cur.expect(',');
    src = cur.register();
  } else if (second.n !== dst.n) {
    cur.fail('xchg returns into its source register: write the same register on both sides');
  }
  if (src.wide !== dst.wide) cur.fail('mixed register widths in atomic exchange');
  cur.expect(')');
  const op = name.startsWith('cmpxchg') ? AtomicOp.CMPXCHG : AtomicOp.XCHG;
  return new Instruction(Class.STX | Mode.ATOMIC | (is64 ? Size.DW : Size.W), base, src.n, offset, op);
}

/** `(u32 *)(r1 + 8)`: a typed address as load_acquire/store_release write it. */
function typedAddress(cur: Cursor): { size: number; base: Register; offset: number } {
  cur.expect('(');
  const sizeTok = cur.ident('a size (u8, u16, u32, u64)');
  const size = SIZE_BY_NAME.get(sizeTok.text);
  if (size === undefined) cur.fail(`unknown size '${sizeTok.text}' (u8, u16, u32, u64)`, sizeTok.column);
  cur.expect('*');
  cur.expect(')');
  cur.expect('(');
  const { base, offset } = addressInside(cur);
  cur.expect(')');
  return { size, base, offset };
}

function checkWidth(cur: Cursor, reg: ParsedRegister, size: number, column: number): void {
  if (size === Size.DW && !reg.wide) cur.fail(`a u64 access needs r${reg.n}, not w${reg.n}`, column);
}

function parseLoadAcquire(cur: Cursor, dst: ParsedRegister): Instruction {
  // dst = load_acquire((u8 *)(r1 + 0))
  const column = cur.column();
  cur.i++;
  cur.expect('(');
  const { size, base, offset } = typedAddress(cur);
  cur.expect(')');
  checkWidth(cur, dst, size, column);
  return new Instruction(Class.STX | Mode.ATOMIC | size, dst.n, base, offset, AtomicOp.LOAD_ACQ);
}

function parseStoreRelease(cur: Cursor): Instruction {
  // store_release((u8 *)(r1 + 0), w2)
  cur.expect('(');
  const { size, base, offset } = typedAddress(cur);
  cur.expect(',');
  const column = cur.column();
  const src = cur.register();
  cur.expect(')');
  checkWidth(cur, src, size, column);
  return new Instruction(Class.STX | Mode.ATOMIC | size, base, src.n, offset, AtomicOp.STORE_REL);
}
