/** TCP/UDP/SCTP port and port-range tests over IPv4 and IPv6 (`gen_port`, `gen_portrange`, ...). */
import type { Dir } from '../lang/ast.js';
import { BPF_B, BPF_H, BPF_JSET } from '../cbpf/opcode.js';
import { type Block, genAnd, genNot, genOr, jmp, newBlock } from './blocks.js';
import { ETHERTYPE, IPPROTO, PROTO_UNDEF } from './constants.js';
import { wlanDirError } from './host.js';
import { genLinktype } from './linktype.js';
import { cmp, cmpGe, cmpLe, loadA, type OffRel } from './loads.js';
import type { CodegenState } from './state.js';

/** "Not a non-first IPv4 fragment" (`gen_ipfrag`). */
export function genIpfrag(cs: CodegenState): Block {
  const b = newBlock(jmp(BPF_JSET), 0x1fff);
  b.stmts = loadA(cs, 'linkpl', 6, BPF_H);
  genNot(b);
  return b;
}

type Atom = (cs: CodegenState, offrel: OffRel, off: number) => Block;

function dirOp(cs: CodegenState, dir: Dir, offrel: OffRel, atom: Atom, what: string): Block {
  switch (dir) {
    case 'src':
      return atom(cs, offrel, 0);
    case 'dst':
      return atom(cs, offrel, 2);
    case 'and':
    case 'or':
    case 'default': {
      const tmp = atom(cs, offrel, 0);
      const b1 = atom(cs, offrel, 2);
      if (dir === 'and') genAnd(tmp, b1);
      else genOr(tmp, b1);
      return b1;
    }
    default:
      return wlanDirError(cs, dir, what);
  }
}

function portOp4(cs: CodegenState, proto: number, dir: Dir, atom: Atom, what: string): Block {
  const tmp = cmp(cs, 'linkpl', 9, BPF_B, proto);
  const b0 = genIpfrag(cs);
  genAnd(tmp, b0);
  const b1 = dirOp(cs, dir, 'tran_ipv4', atom, what);
  genAnd(b0, b1);
  return b1;
}

function portOp6(cs: CodegenState, proto: number, dir: Dir, atom: Atom, what: string): Block {
  const b0 = cmp(cs, 'linkpl', 6, BPF_B, proto);
  const b1 = dirOp(cs, dir, 'tran_ipv6', atom, what);
  genAnd(b0, b1);
  return b1;
}

function byProto(cs: CodegenState, ipProto: number, op: (p: number) => Block): Block {
  if (ipProto !== PROTO_UNDEF) return op(ipProto);
  let tmp = op(IPPROTO.TCP);
  const b1 = op(IPPROTO.UDP);
  genOr(tmp, b1);
  tmp = op(IPPROTO.SCTP);
  genOr(tmp, b1);
  return b1;
}

function portAtom(port: number): Atom {
  return (cs, offrel, off) => cmp(cs, offrel, off, BPF_H, port);
}

function rangeAtom(p1: number, p2: number): Atom {
  const lo = Math.min(p1, p2);
  const hi = Math.max(p1, p2);
  return (cs, offrel, off) => {
    const b1 = cmpGe(cs, offrel, off, BPF_H, lo);
    const b2 = cmpLe(cs, offrel, off, BPF_H, hi);
    genAnd(b1, b2);
    return b2;
  };
}

/** `[tcp|udp|sctp] [dir] port N`: the IPv4 test OR'ed after the IPv6 one, as libpcap does. */
export function genPortBoth(cs: CodegenState, port: number, ipProto: number, dir: Dir): Block {
  return genBoth(cs, portAtom(port), 'ports', ipProto, dir);
}

/** `[tcp|udp|sctp] [dir] portrange A-B`. */
export function genPortrangeBoth(cs: CodegenState, p1: number, p2: number, ipProto: number, dir: Dir): Block {
  return genBoth(cs, rangeAtom(p1, p2), 'port ranges', ipProto, dir);
}

/** The IPv4 test of `atom` (per protocol), then the IPv6 one, OR'ed in libpcap's block order. */
function genBoth(cs: CodegenState, atom: Atom, what: string, ipProto: number, dir: Dir): Block {
  let b0 = genLinktype(cs, ETHERTYPE.IP);
  let b1 = byProto(cs, ipProto, (p) => portOp4(cs, p, dir, atom, what));
  genAnd(b0, b1);
  const v4 = b1;
  b0 = genLinktype(cs, ETHERTYPE.IPV6);
  b1 = byProto(cs, ipProto, (p) => portOp6(cs, p, dir, atom, what));
  genAnd(b0, b1);
  genOr(b1, v4);
  return v4;
}

/** UDP destination port test for one IP version (used by Geneve). */
export function genPort4(cs: CodegenState, port: number, ipProto: number, dir: Dir): Block {
  const b0 = genLinktype(cs, ETHERTYPE.IP);
  const b1 = byProto(cs, ipProto, (p) => portOp4(cs, p, dir, portAtom(port), 'ports'));
  genAnd(b0, b1);
  return b1;
}

/** IPv6 variant of {@link genPort4}. */
export function genPort6(cs: CodegenState, port: number, ipProto: number, dir: Dir): Block {
  const b0 = genLinktype(cs, ETHERTYPE.IPV6);
  const b1 = byProto(cs, ipProto, (p) => portOp6(cs, p, dir, portAtom(port), 'ports'));
  genAnd(b0, b1);
  return b1;
}
