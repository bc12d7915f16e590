import { describe, expect, it } from 'vitest';
import { Ksyms } from '../ksyms.js';
import { bpfHelperCalls, jitedBpfSymbols, MAX_BPF_IMAGE } from './bpf-helpers.js';

const KALLSYMS = [
  'ffffffff81100000 T bpf_skb_load_bytes',
  'ffffffff81100100 T htab_map_lookup_elem',
  'ffffffffc0001000 t bpf_prog_98075f36efc813b3_tc_main\t[bpf]',
  'ffffffffc0001040 t bpf_prog_59f4a931744dcdc6_a_tc_helper\t[bpf]',
  'ffffffffc0002000 t bpf_prog_31205a4510f2c168_xdp_main\t[bpf]',
].join('\n');

/** `call target` at `at` as rel32 bytes. */
const call = (at: bigint, target: bigint): number[] => {
  const rel = Number(BigInt.asIntN(32, target - (at + 5n)));
  const b = new Uint8Array(5);
  b[0] = 0xe8;
  new DataView(b.buffer).setInt32(1, rel, true);
  return [...b];
};

describe('--filter-track-bpf-helpers: the functions JITed BPF programs call', () => {
  const ksyms = Ksyms.parse(KALLSYMS);
  const programs = jitedBpfSymbols(ksyms);

  it('takes every [bpf] symbol with its extent up to the next symbol', () => {
    expect(programs).toEqual([
      { name: 'bpf_prog_98075f36efc813b3_tc_main[bpf]', start: 0xffffffffc0001000n, end: 0xffffffffc0001040n },
      { name: 'bpf_prog_59f4a931744dcdc6_a_tc_helper[bpf]', start: 0xffffffffc0001040n, end: 0xffffffffc0002000n },
      { name: 'bpf_prog_31205a4510f2c168_xdp_main[bpf]', start: 0xffffffffc0002000n },
    ]);
  });

  it('collects direct call targets by name, sorted, without BPF-to-BPF calls or repeats', () => {
    const tc = 0xffffffffc0001000n;
    const memory = new Map<bigint, number[]>([
      // push rbp; call bpf_skb_load_bytes; call the subprogram; call bpf_skb_load_bytes again; ret
      [
        tc,
        [
          0x55,
          ...call(tc + 1n, 0xffffffff81100000n),
          ...call(tc + 6n, 0xffffffffc0001040n),
          ...call(tc + 11n, 0xffffffff81100000n),
          0xc3,
        ],
      ],
      // mov eax, 0; call htab_map_lookup_elem; call into the middle of a function (no symbol there); ret
      [
        0xffffffffc0002000n,
        [
          0xb8,
          0,
          0,
          0,
          0,
          ...call(0xffffffffc0002005n, 0xffffffff81100100n),
          ...call(0xffffffffc000200an, 0xffffffff81100010n),
          0xc3,
        ],
      ],
    ]);
    const reads: Array<[bigint, number]> = [];
    const names = bpfHelperCalls({
      programs,
      read: (addr, len) => {
        reads.push([addr, len]);
        const m = memory.get(addr);
        return m ? Uint8Array.from(m) : undefined; // the subprogram's image is unreadable: skipped
      },
      nameAt: (addr) => ksyms.exact({ hi: Number(addr >> 32n), lo: Number(addr & 0xffffffffn) }),
    });
    expect(names).toEqual(['bpf_skb_load_bytes', 'htab_map_lookup_elem']);
    // Each image is read to the next symbol; the last one up to upstream's 100,000 bytes.
    expect(reads).toEqual([
      [0xffffffffc0001000n, 0x40],
      [0xffffffffc0001040n, 0xfc0],
      [0xffffffffc0002000n, MAX_BPF_IMAGE],
    ]);
  });
});
