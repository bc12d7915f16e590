/**
 * Text forms of classic BPF programs, byte-identical to libpcap 1.10's `bpf_image()` and
 * tcpdump's `-d`, `-dd` and `-ddd` output.
 */
import type { CbpfInstruction } from './instruction.js';
import { BPF_JA, bpfClass, bpfOp, BPF_JMP, SKF_AD_OFF } from './opcode.js';

/** Names libpcap prints for Linux ancillary loads `[SKF_AD_OFF + n]`, indexed by n / 4. */
const ANCILLARY = [
  'proto',
  'type',
  'ifidx',
  'nla',
  'nlan',
  'mark',
  'queue',
  'hatype',
  'rxhash',
  'cpu',
  'xor_x',
  'vlan_tci',
  'vlanp',
  'poff',
  'random',
  'vlan_tpid',
];

const int32 = (k: number): number => k | 0;
const hex = (k: number): string => '0x' + (k >>> 0).toString(16);

function absOperand(k: number): string {
  const off = (k >>> 0) - SKF_AD_OFF;
  if (off >= 0 && off < ANCILLARY.length * 4 && off % 4 === 0) return `[${ANCILLARY[off / 4]}]`;
  return `[${int32(k)}]`;
}

/** Mnemonic and operand text of one opcode, or undefined for an opcode libpcap calls `unimp`. */
function mnemonic(insn: CbpfInstruction, n: number): [string, string] | undefined {
  const k = insn.k >>> 0;
  switch (insn.code) {
    case 0x06:
      return ['ret', `#${int32(k)}`];
    case 0x16:
      return ['ret', ''];
    case 0x20:
      return ['ld', absOperand(k)];
    case 0x28:
      return ['ldh', absOperand(k)];
    case 0x30:
      return ['ldb', absOperand(k)];
    case 0x80:
      return ['ld', '#pktlen'];
    case 0x40:
      return ['ld', `[x + ${int32(k)}]`];
    case 0x48:
      return ['ldh', `[x + ${int32(k)}]`];
    case 0x50:
      return ['ldb', `[x + ${int32(k)}]`];
    case 0x00:
      return ['ld', `#${hex(k)}`];
    case 0x01:
      return ['ldx', `#${hex(k)}`];
    case 0xb1:
      return ['ldxb', `4*([${int32(k)}]&0xf)`];
    case 0x60:
      return ['ld', `M[${int32(k)}]`];
    case 0x61:
      return ['ldx', `M[${int32(k)}]`];
    case 0x02:
      return ['st', `M[${int32(k)}]`];
    case 0x03:
      return ['stx', `M[${int32(k)}]`];
    case 0x05:
      return ['ja', `${int32(n + 1 + k)}`];
    case 0x25:
      return ['jgt', `#${hex(k)}`];
    case 0x35:
      return ['jge', `#${hex(k)}`];
    case 0x15:
      return ['jeq', `#${hex(k)}`];
    case 0x45:
      return ['jset', `#${hex(k)}`];
    case 0x2d:
      return ['jgt', 'x'];
    case 0x3d:
      return ['jge', 'x'];
    case 0x1d:
      return ['jeq', 'x'];
    case 0x4d:
      return ['jset', 'x'];
    case 0x0c:
      return ['add', 'x'];
    case 0x1c:
      return ['sub', 'x'];
    case 0x2c:
      return ['mul', 'x'];
    case 0x3c:
      return ['div', 'x'];
    case 0x9c:
      return ['mod', 'x'];
    case 0x5c:
      return ['and', 'x'];
    case 0x4c:
      return ['or', 'x'];
    case 0xac:
      return ['xor', 'x'];
    case 0x6c:
      return ['lsh', 'x'];
    case 0x7c:
      return ['rsh', 'x'];
    case 0x04:
      return ['add', `#${int32(k)}`];
    case 0x14:
      return ['sub', `#${int32(k)}`];
    case 0x24:
      return ['mul', `#${int32(k)}`];
    case 0x34:
      return ['div', `#${int32(k)}`];
    case 0x94:
      return ['mod', `#${int32(k)}`];
    case 0x54:
      return ['and', `#${hex(k)}`];
    case 0x44:
      return ['or', `#${hex(k)}`];
    case 0xa4:
      return ['xor', `#${hex(k)}`];
    case 0x64:
      return ['lsh', `#${int32(k)}`];
    case 0x74:
      return ['rsh', `#${int32(k)}`];
    case 0x84:
      return ['neg', ''];
    case 0x07:
      return ['tax', ''];
    case 0x87:
      return ['txa', ''];
    default:
      return undefined;
  }
}

/**
 * One line of `tcpdump -d` for the instruction at index `n`, exactly as libpcap's `bpf_image()`
 * prints it: `(000) ldh      [12]`; conditional jumps show absolute targets
 * (`jt 2\tjf 3`), operand-less instructions keep their trailing spaces.
 */
export function formatCbpfInstruction(insn: CbpfInstruction, n: number): string {
  const [op, operand] = mnemonic(insn, n) ?? ['unimp', hex(insn.code)];
  const index = String(n).padStart(3, '0');
  if (bpfClass(insn.code) === BPF_JMP && bpfOp(insn.code) !== BPF_JA) {
    return `(${index}) ${op.padEnd(8)} ${operand.padEnd(16)} jt ${n + 1 + insn.jt}\tjf ${n + 1 + insn.jf}`;
  }
  return `(${index}) ${op.padEnd(8)} ${operand}`;
}

/** The `tcpdump -d` listing, one string per instruction. */
export function formatListing(program: readonly CbpfInstruction[]): string[] {
  return program.map((insn, n) => formatCbpfInstruction(insn, n));
}

/** The `tcpdump -dd` form: C initialisers `{ 0x28, 0, 0, 0x0000000c },`, one per line. */
export function formatCbpfC(program: readonly CbpfInstruction[]): string[] {
  return program.map(
    (i) => `{ 0x${i.code.toString(16)}, ${i.jt}, ${i.jf}, 0x${(i.k >>> 0).toString(16).padStart(8, '0')} },`,
  );
}

/** The `tcpdump -ddd` form: the instruction count, then `code jt jf k` in decimal per line. */
export function formatDecimal(program: readonly CbpfInstruction[]): string[] {
  return [String(program.length), ...program.map((i) => `${i.code} ${i.jt} ${i.jf} ${i.k >>> 0}`)];
}
