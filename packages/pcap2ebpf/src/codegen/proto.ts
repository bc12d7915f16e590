/** Protocol tests: `proto N`, protocol abbreviations (`tcp`, `isis`, ...), `protochain` (`gen_proto`, ...). */
import type { Proto } from '../lang/ast.js';
import {
  BPF_ABS,
  BPF_ADD,
  BPF_ALU,
  BPF_B,
  BPF_IMM,
  BPF_IND,
  BPF_JA,
  BPF_JEQ,
  BPF_JMP,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_MEM,
  BPF_MISC,
  BPF_MSH,
  BPF_MUL,
  BPF_ST,
  BPF_TAX,
  BPF_TXA,
  BPF_X,
} from '../cbpf/opcode.js';
import { type Block, genAnd, genOr, jmp, newBlock, newStmt, type Stmt } from './blocks.js';
import { ETHERTYPE, IPPROTO, ISIS_PDU, ISO, LLCSAP } from './constants.js';
import { genLinktype } from './linktype.js';
import { cmp } from './loads.js';
import type { CodegenState } from './state.js';

const BOGUS_PROTO: Partial<Record<Proto, string>> = {
  arp: 'arp does not encapsulate another protocol',
  rarp: 'rarp does not encapsulate another protocol',
  atalk: 'AppleTalk encapsulation is not specifiable',
  decnet: 'DECNET encapsulation is not specifiable',
  lat: 'LAT does not encapsulate another protocol',
  sca: 'SCA does not encapsulate another protocol',
  moprc: 'MOPRC does not encapsulate another protocol',
  mopdl: 'MOPDL does not encapsulate another protocol',
  clnp: "'clnp proto' is not supported",
};

/** `[proto] proto v` (`gen_proto`). */
export function genProto(cs: CodegenState, v: number, proto: Proto): Block {
  switch (proto) {
    case 'default': {
      const b0 = genProto(cs, v, 'ip');
      const b1 = genProto(cs, v, 'ip6');
      genOr(b0, b1);
      return b1;
    }
    case 'link':
      return genLinktype(cs, v);
    case 'ip': {
      const b0 = genLinktype(cs, ETHERTYPE.IP);
      const b1 = cmp(cs, 'linkpl', 9, BPF_B, v);
      genAnd(b0, b1);
      return b1;
    }
    case 'ip6': {
      const b0 = genLinktype(cs, ETHERTYPE.IPV6);
      let b2 = cmp(cs, 'linkpl', 6, BPF_B, IPPROTO.FRAGMENT);
      const b1 = cmp(cs, 'linkpl', 40, BPF_B, v);
      genAnd(b2, b1);
      b2 = cmp(cs, 'linkpl', 6, BPF_B, v);
      genOr(b2, b1);
      genAnd(b0, b1);
      return b1;
    }
    case 'iso': {
      const b0 = genLinktype(cs, LLCSAP.ISONS);
      const b1 = cmp(cs, 'linkpl_nosnap', 0, BPF_B, v);
      genAnd(b0, b1);
      return b1;
    }
    case 'isis': {
      const b0 = genProto(cs, ISO.ISIS, 'iso');
      const b1 = cmp(cs, 'linkpl_nosnap', 4, BPF_B, v);
      genAnd(b0, b1);
      return b1;
    }
    default:
      return cs.error(BOGUS_PROTO[proto] ?? `'${proto} proto' is bogus`);
  }
}

/** A bare protocol name as a filter (`gen_proto_abbrev_internal`). */
export function genProtoAbbrev(cs: CodegenState, proto: Proto): Block {
  const P = ISIS_PDU;
  switch (proto) {
    case 'sctp':
      return genProto(cs, IPPROTO.SCTP, 'default');
    case 'tcp':
      return genProto(cs, IPPROTO.TCP, 'default');
    case 'udp':
      return genProto(cs, IPPROTO.UDP, 'default');
    case 'icmp':
      return genProto(cs, IPPROTO.ICMP, 'ip');
    case 'igmp':
      return genProto(cs, IPPROTO.IGMP, 'ip');
    case 'igrp':
      return genProto(cs, IPPROTO.IGRP, 'ip');
    case 'pim':
      return genProto(cs, IPPROTO.PIM, 'default');
    case 'vrrp':
    case 'carp':
      return genProto(cs, IPPROTO.VRRP, 'ip');
    case 'ip':
      return genLinktype(cs, ETHERTYPE.IP);
    case 'arp':
      return genLinktype(cs, ETHERTYPE.ARP);
    case 'rarp':
      return genLinktype(cs, ETHERTYPE.REVARP);
    case 'link':
      return cs.error('link layer applied in wrong context');
    case 'atalk':
      return genLinktype(cs, ETHERTYPE.ATALK);
    case 'aarp':
      return genLinktype(cs, ETHERTYPE.AARP);
    case 'decnet':
      return genLinktype(cs, ETHERTYPE.DN);
    case 'sca':
      return genLinktype(cs, ETHERTYPE.SCA);
    case 'lat':
      return genLinktype(cs, ETHERTYPE.LAT);
    case 'mopdl':
      return genLinktype(cs, ETHERTYPE.MOPDL);
    case 'moprc':
      return genLinktype(cs, ETHERTYPE.MOPRC);
    case 'ip6':
      return genLinktype(cs, ETHERTYPE.IPV6);
    case 'icmp6':
      return genProto(cs, IPPROTO.ICMPV6, 'ip6');
    case 'ah':
      return genProto(cs, IPPROTO.AH, 'default');
    case 'esp':
      return genProto(cs, IPPROTO.ESP, 'default');
    case 'iso':
      return genLinktype(cs, LLCSAP.ISONS);
    case 'esis':
      return genProto(cs, ISO.ESIS, 'iso');
    case 'isis':
      return genProto(cs, ISO.ISIS, 'iso');
    // IS-IS PDU groups: b0 = first, b1 = second, or; then each further one OR'ed in front.
    case 'l1':
      return isisGroup(cs, [P.L1_LAN_IIH, P.PTP_IIH, P.L1_LSP, P.L1_CSNP, P.L1_PSNP]);
    case 'l2':
      return isisGroup(cs, [P.L2_LAN_IIH, P.PTP_IIH, P.L2_LSP, P.L2_CSNP, P.L2_PSNP]);
    case 'iih':
      return isisGroup(cs, [P.L1_LAN_IIH, P.L2_LAN_IIH, P.PTP_IIH]);
    case 'lsp':
      return isisGroup(cs, [P.L1_LSP, P.L2_LSP]);
    case 'snp':
      return isisGroup(cs, [P.L1_CSNP, P.L2_CSNP, P.L1_PSNP, P.L2_PSNP]);
    case 'csnp':
      return isisGroup(cs, [P.L1_CSNP, P.L2_CSNP]);
    case 'psnp':
      return isisGroup(cs, [P.L1_PSNP, P.L2_PSNP]);
    case 'clnp':
      return genProto(cs, ISO.CLNP, 'iso');
    case 'stp':
      return genLinktype(cs, LLCSAP.STP);
    case 'ipx':
      return genLinktype(cs, LLCSAP.IPX);
    case 'netbeui':
      return genLinktype(cs, LLCSAP.NETBEUI);
    case 'radio':
      return cs.error("'radio' is not a valid protocol type");
    default:
      return cs.error(`'${proto}' is not a valid protocol type`);
  }
}

function isisGroup(cs: CodegenState, pdus: number[]): Block {
  const b0 = genProto(cs, pdus[0]!, 'isis');
  const b1 = genProto(cs, pdus[1]!, 'isis');
  genOr(b0, b1);
  for (let i = 2; i < pdus.length; i++) genOr(genProto(cs, pdus[i]!, 'isis'), b1);
  return b1;
}

/**
 * `[ip|ip6] protochain v`: walks IPv6 extension headers and AH with a backward-jumping loop; turns
 * the optimizer off for the whole program, as libpcap does.
 */
export function genProtochain(cs: CodegenState, v: number, proto: Proto): Block {
  const reg2 = cs.allocReg();
  if (proto === 'default') {
    const b0 = genProtochain(cs, v, 'ip');
    const b = genProtochain(cs, v, 'ip6');
    genOr(b0, b);
    return b;
  }
  if (proto !== 'ip' && proto !== 'ip6') return cs.error("bad protocol applied for 'protochain'");
  if (cs.offLinkpl.isVariable) return cs.error("'protochain' not supported with variable length headers");
  cs.noOptimize = true;
  const base = cs.offLinkpl.constantPart + cs.offNl;
  const s: Stmt[] = [];
  const add = (code: number, k = 0): number => {
    s.push(newStmt(code, k));
    return s.length - 1;
  };
  add(0); // placeholder, never emitted (libpcap starts the list at s[1])
  let b0: Block;
  if (proto === 'ip') {
    b0 = genLinktype(cs, ETHERTYPE.IP);
    add(BPF_LD | BPF_ABS | BPF_B, base + 9);
    add(BPF_LDX | BPF_MSH | BPF_B, base);
  } else {
    b0 = genLinktype(cs, ETHERTYPE.IPV6);
    add(BPF_LD | BPF_ABS | BPF_B, base + 6);
    add(BPF_LDX | BPF_IMM, 40);
  }
  const again = s.length;
  const fix5 = add(BPF_JMP | BPF_JEQ | BPF_K, v);
  const fix2 = add(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO.NONE);
  s[fix5]!.jf = s[fix2];
  let fix3 = 0;
  if (proto === 'ip6') {
    const v6start = add(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO.HOPOPTS);
    s[fix2]!.jf = s[v6start];
    let i = add(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO.DSTOPTS);
    s[i - 1]!.jf = s[i];
    i = add(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO.ROUTING);
    s[i - 1]!.jf = s[i];
    i = add(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO.FRAGMENT);
    s[i - 1]!.jf = s[i];
    fix3 = i;
    const v6end = i;
    const v6advance = add(BPF_LD | BPF_IND | BPF_B, base);
    add(BPF_ST, reg2);
    add(BPF_LD | BPF_IND | BPF_B, base + 1);
    add(BPF_ALU | BPF_ADD | BPF_K, 1);
    add(BPF_ALU | BPF_MUL | BPF_K, 8);
    add(BPF_ALU | BPF_ADD | BPF_X, 0);
    add(BPF_MISC | BPF_TAX);
    add(BPF_LD | BPF_MEM, reg2);
    i = s.length;
    add(BPF_JMP | BPF_JA, again - i - 1);
    s[i - 1]!.jf = s[i];
    for (let j = v6start; j <= v6end; j++) s[j]!.jt = s[v6advance];
  } else {
    const i = add(BPF_ALU | BPF_ADD | BPF_K, 0);
    s[fix2]!.jf = s[i];
  }
  const ahcheck = add(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO.AH);
  if (fix3) s[fix3]!.jf = s[ahcheck];
  const fix4 = ahcheck;
  let i = add(BPF_MISC | BPF_TXA);
  s[i - 1]!.jt = s[i];
  add(BPF_LD | BPF_IND | BPF_B, base);
  add(BPF_ST, reg2);
  i = add(BPF_MISC | BPF_TXA);
  s[i - 1]!.jt = s[i];
  add(BPF_ALU | BPF_ADD | BPF_K, 1);
  add(BPF_MISC | BPF_TAX);
  add(BPF_LD | BPF_IND | BPF_B, base);
  add(BPF_ALU | BPF_ADD | BPF_K, 2);
  add(BPF_ALU | BPF_MUL | BPF_K, 4);
  add(BPF_MISC | BPF_TAX);
  add(BPF_LD | BPF_MEM, reg2);
  i = s.length;
  add(BPF_JMP | BPF_JA, again - i - 1);
  const end = add(BPF_ALU | BPF_ADD | BPF_K, 0);
  s[fix2]!.jt = s[end];
  s[fix4]!.jf = s[end];
  s[fix5]!.jt = s[end];
  for (let j = 0; j + 1 < s.length; j++) s[j]!.next = s[j + 1];
  const b = newBlock(jmp(BPF_JEQ), v);
  b.stmts = s[1];
  cs.freeReg(reg2);
  genAnd(b0, b);
  return b;
}
