import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PseudoLoad } from '../opcode.js';
import { assemble } from './assemble.js';

// test/fixtures/llc: an LLVM IR socket filter compiled by llc-19 (scripts/gen-llc-fixture.mjs)
// into the assembly listing a compiler emits and, from the object file, its code bytes.
const fixture = (name: string): string =>
  readFileSync(new URL(`../../test/fixtures/llc/${name}`, import.meta.url), 'utf8');
const listing = fixture('socket-counter.s');
const objectBytes = fixture('socket-counter.hex')
  .split('\n')
  .filter((l) => /^[0-9a-f]{16}$/.test(l))
  .join('');

describe('assembling compiler output (llc -filetype=asm)', () => {
  it('skips directives and data sections (.maps, license) and keeps the code section', () => {
    const linked = assemble(listing, { file: 'socket-counter.s' });
    expect(linked.slotCount * 8 * 2).toBe(objectBytes.length);
    expect(linked.symbols.has('counts')).toBe(false); // a map in .maps, not a code label
    expect([...linked.symbols.keys()]).toEqual(expect.arrayContaining(['prog', 'mix', 'LBB0_2', 'LBB0_4']));
  });

  it("encodes exactly llc's object code, with the map load left as a relocation", () => {
    const linked = assemble(listing);
    expect(linked.relocations).toEqual([{ index: 4, instruction: 4, kind: 'map_fd', symbol: 'counts' }]);
    // In the object the map load carries an ELF relocation and src 0; libbpf sets the pseudo
    // source (BPF_PSEUDO_MAP_FD) when it loads it. We set it at assembly time.
    const expected = Buffer.from(objectBytes, 'hex');
    expected[4 * 8 + 1]! |= PseudoLoad.MAP_FD << 4;
    expect(Buffer.from(linked.encode()).toString('hex')).toBe(expected.toString('hex'));
  });
});
