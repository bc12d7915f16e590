import { describe, expect, it } from 'vitest';
import { encode } from '../encoding.js';
import { AssemblerError } from '../errors.js';
import { Helper } from '../helper.js';
import { PseudoCall, PseudoLoad } from '../opcode.js';
import { assemble } from './assemble.js';
import { parse } from './parser.js';
import { print } from './printer.js';

const errorOf = (f: () => unknown): AssemblerError => {
  try {
    f();
  } catch (e) {
    if (e instanceof AssemblerError) return e;
    throw e;
  }
  throw new Error('expected an AssemblerError');
};

describe('parse', () => {
  it('reads labels on their own line or before an instruction, and keeps comments as provenance', () => {
    const { instructions, positions } = parse(
      [
        '\t.text',
        'entry:',
        '\tr0 = 0 # default verdict',
        'LBB0_1: if r1 == 0 goto LBB0_1 // spin',
        '\texit ; done',
      ].join('\n'),
    );
    expect(instructions.map((i) => i.symbol)).toEqual(['entry', 'LBB0_1', undefined]);
    expect(instructions.map((i) => i.comment)).toEqual(['default verdict', 'spin', 'done']);
    expect(instructions[1]!.reference).toBe('LBB0_1');
    expect(positions).toEqual([
      { line: 3, column: 2 },
      { line: 4, column: 9 },
      { line: 5, column: 2 },
    ]);
  });

  it('reads load-acquire and store-release (kernel 6.15; newer than LLVM 19) as the kernel encodes them', () => {
    const { instructions } = parse(
      'w0 = load_acquire((u8 *)(r10 - 1))\nstore_release((u64 *)(r10 - 8), r1)\nr2 = load_acquire((u64 *)(r3 + 16))',
    );
    // BPF_ATOMIC_OP(BPF_B, BPF_LOAD_ACQ, BPF_REG_0, BPF_REG_10, -1) and friends, per include/linux/filter.h
    expect(Buffer.from(encode(instructions)).toString('hex')).toBe(
      'd3a0ffff00010000' + 'db1af8ff10010000' + 'db32100000010000',
    );
    expect(print(instructions)).toBe(
      '\tw0 = load_acquire((u8 *)(r10 - 1))\n\tstore_release((u64 *)(r10 - 8), r1)\n\tr2 = load_acquire((u64 *)(r3 + 16))\n',
    );
    expect(() => parse('w2 = load_acquire((u64 *)(r3 + 16))')).toThrow(/a u64 access needs r2, not w2/);
  });

  it('reads numbered listings as print({ numbered: true }) and the verifier log write them', () => {
    const listing = ['0: (b7) r0 = 0', '1: (15) if r1 == 0x0 goto pc+1', '2: (07) r0 += 1', '3: (95) exit'].join('\n');
    const { instructions } = parse(listing);
    expect(instructions.map(String)).toEqual(['r0 = 0', 'if r1 == 0 goto +1', 'r0 += 1', 'exit']);
    expect(print(instructions, { numbered: true })).toBe(
      '0: (b7) r0 = 0\n1: (15) if r1 == 0 goto +1\n2: (07) r0 += 1\n3: (95) exit\n',
    );
    // The log prints LD_IMM64 constants without 'll'; its (18) opcode says what they are.
    expect(parse('0: (18) r1 = 0xffffffffffffffff\n2: (95) exit').instructions.map(String)).toEqual([
      'r1 = -1 ll',
      'exit',
    ]);
  });

  it('reads the verifier log spellings of atomics', () => {
    const log = [
      '0: (db) r2 = atomic64_fetch_add((u64 *)(r10 -8), r2)',
      '1: (c3) r3 = atomic_fetch_or((u32 *)(r10 -4), r3)',
      '2: (db) r1 = atomic64_xchg((u64 *)(r10 -8), r1)',
      '3: (db) r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r4)',
      '4: (c3) r0 = atomic_cmpxchg((u32 *)(r10 -4), r0, r4)',
    ].join('\n');
    expect(parse(log).instructions.map(String)).toEqual([
      'r2 = atomic_fetch_add((u64 *)(r10 - 8), r2)',
      'w3 = atomic_fetch_or((u32 *)(r10 - 4), w3)',
      'r1 = xchg_64(r10 - 8, r1)',
      'r0 = cmpxchg_64(r10 - 8, r0, r4)',
      'w0 = cmpxchg32_32(r10 - 4, w0, w4)',
    ]);
    expect(() => parse('r1 = atomic64_xchg((u32 *)(r10 -4), r1)')).toThrow(/atomic64_xchg works on u64/);
  });

  it('accepts several labels before one instruction', () => {
    const text = 'if r1 == 0 goto b\na:\nb:\n\texit\n';
    const { instructions } = parse(text);
    expect(instructions[1]!.labels).toEqual(['a', 'b']);
    expect(print(instructions)).toBe('\tif r1 == 0 goto b\na:\nb:\n\texit\n');
  });

  it('decides what `call NAME` means: a label is a bpf-to-bpf call, bpf_* a helper, anything else a kfunc', () => {
    const { instructions } = parse(
      ['call sub', 'call bpf_map_lookup_elem', 'call bpf_task_acquire', 'exit', 'sub:', 'exit'].join('\n'),
    );
    expect(instructions[0]).toMatchObject({ src: PseudoCall.CALL, reference: 'sub' });
    expect(instructions[1]).toMatchObject({
      src: PseudoCall.HELPER,
      imm: Helper.map_lookup_elem,
      reference: undefined,
    });
    expect(instructions[2]).toMatchObject({ src: PseudoCall.KFUNC, reference: 'bpf_task_acquire' });
  });

  it('reads `rN = NAME ll` as a function pointer for a label, else as a map; `NAME + off` as a map value', () => {
    const { instructions } = parse(
      ['r1 = events ll', 'r2 = cb ll', 'r3 = config + 16 ll', 'exit', 'cb:', 'exit'].join('\n'),
    );
    expect(instructions[0]).toMatchObject({ src: PseudoLoad.MAP_FD, reference: 'events' });
    expect(instructions[1]).toMatchObject({ src: PseudoLoad.FUNC, reference: 'cb' });
    expect(instructions[2]).toMatchObject({ src: PseudoLoad.MAP_VALUE, reference: 'config', immHigh: 16 });
  });

  it('accepts the forms LLVM cannot write: pseudo calls and kfuncs by number, LD_IND with an offset, ld_pseudo with a second imm', () => {
    const { instructions } = parse(
      ['call pc-3', 'call kfunc#1234@2', 'r0 = *(u8 *)skb[r6 + 14]', 'ld_pseudo r1, 6, 3, 8'].join('\n'),
    );
    expect(instructions[0]).toMatchObject({ src: PseudoCall.CALL, imm: -3 });
    expect(instructions[1]).toMatchObject({ src: PseudoCall.KFUNC, imm: 1234, offset: 2 });
    expect(instructions[2]).toMatchObject({ opcode: 0x50, src: 6, imm: 14 });
    expect(instructions[3]).toMatchObject({ src: 6, imm: 3, immHigh: 8 });
  });

  const bad: Array<[string, string, number, number, RegExp]> = [
    ['an unknown mnemonic', 'r0 = 0\nfoo r1', 2, 1, /unknown instruction 'foo'/],
    ['a register above r10', 'r11 = 1', 1, 1, /register 'r11' does not exist/],
    ['mixed register widths', 'r1 += w2', 1, 7, /mixed register widths/],
    ['an immediate too wide', 'r1 = 4294967296', 1, 6, /does not fit 32 bits \(add 'll'/],
    ['an offset too wide', 'r0 = *(u32 *)(r1 + 40000)', 1, 18, /does not fit 16 signed bits/],
    ['a bad size', 'r0 = *(u24 *)(r1 + 0)', 1, 8, /unknown size 'u24'/],
    ['trailing junk', 'exit now', 1, 6, /unexpected 'now'/],
    ['a stray character', 'r0 = 1 ?', 1, 8, /unexpected character '\?'/],
    ['a duplicate label', 'a:\nexit\na:\nexit', 3, 1, /label 'a' is already defined/],
    [
      'a jump to a label at the very end',
      'goto end\nexit\nend:',
      3,
      1,
      /label 'end' is not followed by an instruction/,
    ],
    ['an unsupported directive', '.macro m\nexit', 1, 1, /unsupported directive '.macro'/],
    ['data in a code section', '.byte 1\nexit', 1, 1, /unsupported directive '.byte'/],
    ['an unterminated string', '.section "socket, ax\nexit', 1, 10, /unterminated string/],
    ['a byte swap of another register', 'r1 = be16 r2', 1, 11, /byte swap must be written/],
  ];
  for (const [what, text, line, column, message] of bad) {
    it(`reports ${what} at file:line:col`, () => {
      const err = errorOf(() => parse(text, { file: 'prog.s' }));
      expect({ line: err.line, column: err.column }).toEqual({ line, column });
      expect(err.message).toMatch(new RegExp(`^prog\\.s:${line}:${column}: `));
      expect(err.reason).toMatch(message);
    });
  }
});

describe('assemble', () => {
  it('links labels into offsets and leaves maps as relocations', () => {
    const linked = assemble(['r1 = counts ll', 'if r1 == 0 goto out', 'r0 = 1', 'out:', 'exit'].join('\n'));
    expect(linked.instructions[1]!.offset).toBe(1);
    expect(linked.relocations).toEqual([{ index: 0, instruction: 0, kind: 'map_fd', symbol: 'counts' }]);
  });

  it('reports an unresolved label at the line that uses it', () => {
    const err = errorOf(() => assemble('r0 = 0\n  goto nowhere\nexit', { file: 'x.s' }));
    expect(err.message).toBe("x.s:2:3: unresolved symbol 'nowhere'");
  });

  it('reports a conditional jump beyond 16 bits at its line', () => {
    const text = ['if r1 == 0 goto far', ...Array.from({ length: 33000 }, () => 'r0 += 1'), 'far:', 'exit'].join('\n');
    expect(errorOf(() => assemble(text)).message).toMatch(/^<input>:1:1: jump to 'far' spans 33000 instructions/);
  });
});

describe('print', () => {
  const source = [
    'entry:',
    '\tr6 = r1\t# save ctx',
    '\tr1 = counts ll',
    '\tcall bpf_map_lookup_elem',
    '\tif r0 == 0 goto out',
    '\tcall helper',
    'out:',
    '\texit',
    'helper:',
    '\tr0 = 1',
    '\texit',
    '',
  ].join('\n');

  it('prints labels, references and comments so text -> instructions -> text is stable', () => {
    const once = print(parse(source).instructions, { helperNames: true });
    expect(once).toBe(source);
    expect(print(parse(once).instructions, { helperNames: true })).toBe(once);
  });

  it('prints helper ids as LLVM does by default, and numbers slots like the verifier log', () => {
    const linked = assemble(source);
    const text = print(linked.instructions, { numbered: true, labels: false, comments: false });
    expect(text.split('\n').slice(0, 6)).toEqual([
      '0: (bf) r6 = r1',
      '1: (18) ld_pseudo r1, 1, 0',
      '3: (85) call 1',
      '4: (15) if r0 == 0 goto +1',
      '5: (85) call pc+1',
      '6: (95) exit',
    ]);
    expect(encode(parse(print(linked.instructions, { labels: false })).instructions)).toEqual(linked.encode());
  });
});
