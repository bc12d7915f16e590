import { describe, expect, it } from 'vitest';
import { BuilderError, UnknownHelperError } from '../errors.js';
import { Helper } from '../helper.js';
import { AluOp, AtomicOp, Class, JumpOp, Mode, PseudoCall, PseudoLoad, Size, Source } from '../opcode.js';
import { R0, R1, R10, R2, R6 } from '../register.js';
import {
  Add,
  addrSpaceCast,
  Atomic,
  bswap,
  call,
  callFunction,
  callKfunc,
  exit,
  Ja,
  Ja32,
  JEq,
  JSLT,
  LoadAbs,
  LoadBtfId,
  LoadFuncPtr,
  LoadImm64,
  LoadInd,
  LoadMapByIndex,
  LoadMapPtr,
  LoadMapValue,
  LoadMapValueByIndex,
  LoadMem,
  LoadMemSX,
  mayGoto,
  Mov,
  MovSX,
  neg32,
  SDiv,
  SMod,
  StoreImm,
  StoreMem,
  toBE,
  toLE,
} from './index.js';

describe('arithmetic builders', () => {
  it('pick class and source from the form: imm/reg are 64-bit, imm32/reg32 are 32-bit', () => {
    expect(Add.imm(R1, 5)).toMatchObject({ opcode: Class.ALU64 | AluOp.ADD | Source.K, dst: 1, src: 0, imm: 5 });
    expect(Add.reg(R1, R2)).toMatchObject({ opcode: Class.ALU64 | AluOp.ADD | Source.X, dst: 1, src: 2, imm: 0 });
    expect(Add.imm32(R1, 5).opcode).toBe(Class.ALU | AluOp.ADD | Source.K);
    expect(Add.reg32(R1, R2).opcode).toBe(Class.ALU | AluOp.ADD | Source.X);
  });

  it('encode signed division and modulo with offset 1, sign-extending moves with the width', () => {
    expect(SDiv.imm(R1, 3)).toMatchObject({ opcode: 0x37, offset: 1 });
    expect(SMod.reg32(R1, R2)).toMatchObject({ opcode: 0x9c, offset: 1 });
    expect(MovSX.reg(R1, R2, 32)).toMatchObject({ opcode: 0xbf, offset: 32 });
    expect(MovSX.reg32(R1, R2, 8)).toMatchObject({ opcode: 0xbc, offset: 8 });
    expect(() => MovSX.reg32(R1, R2, 32 as 8)).toThrow(BuilderError);
  });

  it('normalizes unsigned 32-bit immediates and rejects wider ones', () => {
    expect(Mov.imm(R0, 0xffffffff).imm).toBe(-1);
    expect(() => Mov.imm(R0, 2 ** 32)).toThrow(/does not fit 32 bits/);
    expect(() => Mov.imm(R0, 1.5)).toThrow(BuilderError);
    expect(() => Mov.reg(R0, 11 as never)).toThrow(/not a register/);
  });

  it('build negation, byte swaps and address-space casts', () => {
    expect(neg32(R1)).toMatchObject({ opcode: 0x84, dst: 1 });
    expect(toBE(R1, 16)).toMatchObject({ opcode: 0xdc, imm: 16 });
    expect(toLE(R1, 64)).toMatchObject({ opcode: 0xd4, imm: 64 });
    expect(bswap(R1, 32)).toMatchObject({ opcode: 0xd7, imm: 32 });
    expect(() => bswap(R1, 8 as 16)).toThrow(BuilderError);
    expect(addrSpaceCast(R1, R2, 0, 1)).toMatchObject({ opcode: 0xbf, offset: 1, imm: 1 });
  });
});

describe('jump builders', () => {
  it('keep a label as a reference for link, or take a raw offset', () => {
    expect(JEq.imm(R1, 0, 'out')).toMatchObject({ opcode: 0x15, offset: 0, reference: 'out' });
    expect(JSLT.reg32(R1, R2, -3)).toMatchObject({ opcode: Class.JMP32 | JumpOp.JSLT | Source.X, offset: -3 });
    expect(Ja('top')).toMatchObject({ opcode: 0x05, reference: 'top' });
    expect(Ja32(100000)).toMatchObject({ opcode: 0x06, imm: 100000, offset: 0 });
    expect(mayGoto(2)).toMatchObject({ opcode: 0xe5, offset: 2 });
    expect(() => JEq.imm(R1, 0, 40000)).toThrow(/does not fit 16 signed bits/);
  });
});

describe('memory builders', () => {
  it('encode size and mode', () => {
    expect(LoadMem(R0, R1, 8, 'u32')).toMatchObject({
      opcode: Class.LDX | Mode.MEM | Size.W,
      dst: 0,
      src: 1,
      offset: 8,
    });
    expect(LoadMemSX(R0, R1, -1, 'u8').opcode).toBe(Class.LDX | Mode.MEMSX | Size.B);
    expect(StoreMem(R10, -8, R1, 'u64')).toMatchObject({ opcode: 0x7b, dst: 10, src: 1, offset: -8 });
    expect(StoreImm(R10, -4, 7, 'u16')).toMatchObject({ opcode: 0x6a, imm: 7 });
    expect(LoadAbs(12, 'u16')).toMatchObject({ opcode: 0x28, imm: 12 });
    expect(LoadInd(R6, 14, 'u8')).toMatchObject({ opcode: 0x50, src: 6, imm: 14 });
    expect(() => LoadMem(R0, R1, 0, 'u128' as 'u8')).toThrow(/unknown access size/);
  });

  it('encode atomics with the operation in imm', () => {
    expect(Atomic.add(R10, -8, R1, 'u64')).toMatchObject({ opcode: 0xdb, imm: AtomicOp.ADD });
    expect(Atomic.fetchXor(R1, 0, R2, 'u32')).toMatchObject({ opcode: 0xc3, imm: 0xa1 });
    expect(Atomic.xchg(R1, 0, R2, 'u64').imm).toBe(0xe1);
    expect(Atomic.cmpxchg(R1, 0, R2, 'u32').imm).toBe(0xf1);
    expect(Atomic.loadAcquire(R0, R10, -1, 'u8')).toMatchObject({
      opcode: 0xd3,
      dst: 0,
      src: 10,
      offset: -1,
      imm: 0x100,
    });
    expect(Atomic.storeRelease(R10, -2, R1, 'u16')).toMatchObject({
      opcode: 0xcb,
      dst: 10,
      src: 1,
      offset: -2,
      imm: 0x110,
    });
  });
});

describe('LD_IMM64 builders', () => {
  it('carry the 64-bit constant and pseudo source', () => {
    const big = LoadImm64(R1, 0x1_0000_0002n);
    expect(big).toMatchObject({ opcode: 0x18, src: PseudoLoad.IMM, imm: 2, constant: 0x1_0000_0002n, slots: 2 });
    expect(big.immHigh).toBe(1);
    expect(LoadImm64(R1, 0xffff_ffff_ffff_ffffn).constant).toBe(-1n);
    expect(() => LoadImm64(R1, 1n << 64n)).toThrow(BuilderError);
  });

  it('reference maps, ksyms and functions by name for the linker and loader', () => {
    expect(LoadMapPtr(R1, 'events')).toMatchObject({ src: PseudoLoad.MAP_FD, reference: 'events', imm: 0 });
    expect(LoadMapPtr(R1, 5)).toMatchObject({ src: PseudoLoad.MAP_FD, reference: undefined, imm: 5 });
    expect(LoadMapValue(R1, 'config', 16)).toMatchObject({
      src: PseudoLoad.MAP_VALUE,
      reference: 'config',
      immHigh: 16,
    });
    expect(LoadMapValue(R1, 7, 4)).toMatchObject({ imm: 7, immHigh: 4 });
    expect(LoadBtfId(R1, 'bpf_prog_active')).toMatchObject({ src: PseudoLoad.BTF_ID, reference: 'bpf_prog_active' });
    expect(LoadFuncPtr(R2, 'cb')).toMatchObject({ src: PseudoLoad.FUNC, reference: 'cb' });
    expect(LoadMapByIndex(R1, 3)).toMatchObject({ src: PseudoLoad.MAP_IDX, imm: 3 });
    expect(LoadMapValueByIndex(R1, 3, 8)).toMatchObject({ src: PseudoLoad.MAP_IDX_VALUE, imm: 3, immHigh: 8 });
  });
});

describe('call builders', () => {
  it('call helpers by id or by name with or without the bpf_ prefix', () => {
    expect(call(Helper.map_lookup_elem)).toMatchObject({ opcode: 0x85, src: PseudoCall.HELPER, imm: 1 });
    expect(call('bpf_ringbuf_reserve').imm).toBe(Helper.ringbuf_reserve);
    expect(call('get_func_ip').imm).toBe(Helper.get_func_ip);
    expect(() => call('bpf_nope' as 'bpf_map_lookup_elem')).toThrow(UnknownHelperError);
  });

  it('leave bpf-to-bpf and kfunc targets as references', () => {
    expect(callFunction('sub')).toMatchObject({ src: PseudoCall.CALL, reference: 'sub' });
    expect(callKfunc('bpf_task_acquire')).toMatchObject({ src: PseudoCall.KFUNC, reference: 'bpf_task_acquire' });
    expect(callKfunc(1234, 2)).toMatchObject({ src: PseudoCall.KFUNC, imm: 1234, offset: 2 });
    expect(exit()).toMatchObject({ opcode: 0x95, dst: 0, src: 0, offset: 0, imm: 0 });
  });
});

describe('instruction metadata', () => {
  it('is attached by with* methods without changing the encoding', () => {
    const base = Mov.imm(R0, 1);
    const tagged = base.withSymbol('start').withComment('pcap L3 insn 4').withReference('x');
    expect(tagged).toMatchObject({ symbol: 'start', comment: 'pcap L3 insn 4', reference: 'x' });
    expect(tagged.equals(base)).toBe(true);
    expect(base.symbol).toBeUndefined();
    expect(tagged.withSymbol(undefined).symbol).toBeUndefined();
  });

  it('prints itself in LLVM syntax', () => {
    expect(String(LoadMem(R0, R1, 8, 'u32'))).toBe('r0 = *(u32 *)(r1 + 8)');
    expect(`${JEq.imm(R1, 0, 'out')}`).toBe('if r1 == 0 goto out');
  });

  it('defines several labels at one instruction with withLabel', () => {
    const insn = exit().withLabel('a').withLabel('b').withLabel('a');
    expect(insn.symbol).toBe('a');
    expect(insn.aliases).toEqual(['b']);
    expect(insn.labels).toEqual(['a', 'b']);
    expect(insn.withSymbol(undefined).labels).toEqual([]);
    expect(exit().meta).toBeUndefined();
  });
});
