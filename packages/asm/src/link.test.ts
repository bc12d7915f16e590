import { describe, expect, it } from 'vitest';
import {
  Add,
  call,
  callFunction,
  callKfunc,
  exit,
  Ja,
  Ja32,
  JEq,
  LoadBtfId,
  LoadFuncPtr,
  LoadMapPtr,
  LoadMapValue,
  LoadImm64,
  Mov,
} from './builder/index.js';
import { DuplicateSymbolError, JumpOutOfRangeError, LinkError, UnresolvedSymbolError } from './errors.js';
import { Helper } from './helper.js';
import { link } from './link.js';
import { R0, R1, R2 } from './register.js';

describe('link', () => {
  it('resolves forward and backward labels to offsets relative to the next slot', () => {
    const linked = link([
      Mov.imm(R0, 0).withSymbol('top'),
      JEq.imm(R1, 0, 'out'),
      LoadImm64(R2, 1n), // two slots
      Ja('top'),
      exit().withSymbol('out'),
    ]);
    expect(linked.instructions[1]!.offset).toBe(3); // slot 1 -> slot 5
    expect(linked.instructions[3]!.offset).toBe(-5); // slot 4 -> slot 0
    expect(linked.symbols.get('out')).toBe(5);
    expect(linked.slotCount).toBe(6);
    expect(linked.instructions[4]!.symbol).toBe('out');
  });

  it('resolves every label of an instruction carrying several', () => {
    const linked = link([
      JEq.imm(R1, 0, 'x'),
      JEq.imm(R1, 1, 'y'),
      Mov.imm(R0, 1),
      exit().withLabel('x').withLabel('y'),
    ]);
    expect(linked.instructions.map((i) => i.offset)).toEqual([2, 1, 0, 0]);
    expect([...linked.symbols]).toEqual([
      ['x', 3],
      ['y', 3],
    ]);
    expect(() => link([Mov.imm(R0, 0).withLabel('x'), exit().withLabel('y').withLabel('x')])).toThrow(
      DuplicateSymbolError,
    );
  });

  it('puts the distance of a gotol in imm and allows it beyond 16 bits', () => {
    const filler = Array.from({ length: 40000 }, () => Add.imm(R0, 1));
    const linked = link([Ja32('end'), ...filler, exit().withSymbol('end')]);
    expect(linked.instructions[0]).toMatchObject({ imm: 40000, offset: 0 });
  });

  it('rejects a conditional jump farther than 16 bits with a typed error naming it', () => {
    const filler = Array.from({ length: 40000 }, () => Add.imm(R0, 1));
    expect(() => link([Mov.imm(R0, 0), JEq.imm(R1, 0, 'far'), ...filler, exit().withSymbol('far')])).toThrow(
      new JumpOutOfRangeError('far', 1, 40000, 16),
    );
  });

  it('rejects unresolved and duplicate labels', () => {
    expect(() => link([Ja('nowhere'), exit()])).toThrow(UnresolvedSymbolError);
    expect(() => link([Ja('nowhere'), exit()])).toThrow("instruction 0: unresolved symbol 'nowhere'");
    expect(() => link([Mov.imm(R0, 0).withSymbol('a'), exit().withSymbol('a')])).toThrow(DuplicateSymbolError);
    expect(() => link([callFunction('missing'), exit()])).toThrow(UnresolvedSymbolError);
  });

  it('appends only the subprograms called, transitively, and resolves pseudo calls', () => {
    const leaf = [Mov.imm(R0, 2).withSymbol('leaf'), exit()];
    const mid = [callFunction('leaf').withSymbol('mid'), exit()];
    const unused = [Mov.imm(R0, 9).withSymbol('unused'), exit()];
    const linked = link([callFunction('mid'), exit()], { subprograms: [unused, leaf, mid] });
    expect(linked.functions).toEqual([
      { name: undefined, index: 0 },
      { name: 'mid', index: 2 },
      { name: 'leaf', index: 4 },
    ]);
    expect(linked.instructions[0]!.imm).toBe(1); // slot 0 -> slot 2
    expect(linked.instructions[2]!.imm).toBe(1); // slot 2 -> slot 4
    expect(linked.slotCount).toBe(6);
  });

  it('resolves function pointers for callbacks', () => {
    const cb = [Mov.imm(R0, 0).withSymbol('cb'), exit()];
    const linked = link([LoadFuncPtr(R2, 'cb'), call(Helper.loop), exit()], { subprograms: [cb] });
    expect(linked.instructions[0]!.imm).toBe(3); // slots 0-1, call 2, exit 3, cb at 4
  });

  it('rejects a reference nothing can resolve instead of dropping it', () => {
    expect(() => link([Mov.imm(R0, 0).withReference('x'), exit()])).toThrow(
      "instruction 0: nothing resolves reference 'x' on 'r0 = 0'",
    );
    expect(() => link([LoadImm64(R1, 5n).withReference('events'), exit()])).toThrow(LinkError);
  });

  it('rejects a subprogram without a symbol', () => {
    expect(() => link([exit()], { subprograms: [[exit()]] })).toThrow(LinkError);
  });

  it('lists map, ksym and kfunc references as relocations by slot index', () => {
    const linked = link([
      LoadMapPtr(R1, 'events'),
      LoadMapValue(R2, 'config', 8),
      LoadBtfId(R1, 'bpf_prog_active'),
      callKfunc('bpf_rcu_read_lock'),
      exit(),
    ]);
    expect(linked.relocations).toEqual([
      { index: 0, instruction: 0, kind: 'map_fd', symbol: 'events' },
      { index: 2, instruction: 1, kind: 'map_value', symbol: 'config', offset: 8 },
      { index: 4, instruction: 2, kind: 'btf_id', symbol: 'bpf_prog_active' },
      { index: 6, instruction: 3, kind: 'kfunc', symbol: 'bpf_rcu_read_lock' },
    ]);
    const fds: Record<string, number> = { events: 5, config: 6, bpf_prog_active: 777, bpf_rcu_read_lock: 888 };
    const resolved = linked.resolve((r) => fds[r.symbol]!);
    expect(resolved.map((i) => i.imm)).toEqual([5, 6, 777, 888, 0]);
    expect(resolved[1]!.immHigh).toBe(8);
    expect(() => linked.resolve(() => 2 ** 40)).toThrow(LinkError);
  });

  it('maps every slot back to its instruction and provenance comment', () => {
    const linked = link([
      Mov.imm(R0, 0).withComment('prologue'),
      LoadImm64(R1, 5n).withComment('filter L3 insn 2'),
      Add.imm(R0, 1),
      exit(),
    ]);
    expect(linked.comments).toEqual(['prologue', 'filter L3 insn 2', 'filter L3 insn 2', undefined, undefined]);
    expect(linked.commentAtSlot(2)).toBe('filter L3 insn 2');
    expect(linked.commentAtSlot(4)).toBe('filter L3 insn 2'); // nearest preceding
    expect(linked.instructionAtSlot(2)!.constant).toBe(5n);
    expect(linked.instructionAtSlot(9)).toBeUndefined();
  });
});
