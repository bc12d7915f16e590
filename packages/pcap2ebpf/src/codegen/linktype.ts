/** Tests for "the link layer carries protocol X" (`gen_linktype` and friends). */
import { BPF_H, BPF_JEQ, BPF_JMP, BPF_LD, BPF_LDX, BPF_MEM, BPF_X } from '../cbpf/opcode.js';
import { type Block, genAnd, genNot, genOr, newBlock, newStmt, sappend, uncond } from './blocks.js';
import { ETHERMTU, ETHERTYPE, LLCSAP, PPP } from './constants.js';
import { bcmp, cmp, cmpGt, mcmp } from './loads.js';
import type { CodegenState } from './state.js';

/** Constant true (`ld #0; jeq #0`). */
export const genTrue = (): Block => uncond(true);
/** Constant false (`ld #1; jeq #0`). */
export const genFalse = (): Block => uncond(false);

/** SNAP header check: AA AA 03, OUI, protocol type (`gen_snap`). */
export function genSnap(cs: CodegenState, orgcode: number, ptype: number): Block {
  const snap = Uint8Array.of(
    LLCSAP.SNAP,
    LLCSAP.SNAP,
    0x03,
    (orgcode >> 16) & 0xff,
    (orgcode >> 8) & 0xff,
    orgcode & 0xff,
    (ptype >> 8) & 0xff,
    ptype & 0xff,
  );
  return bcmp(cs, 'llc', 0, snap);
}

function genEtherLinktype(cs: CodegenState, llProto: number): Block {
  let b0: Block;
  let b1: Block;
  switch (llProto) {
    case LLCSAP.ISONS:
    case LLCSAP.IP:
    case LLCSAP.NETBEUI:
      b0 = cmpGt(cs, 'linktype', 0, BPF_H, ETHERMTU);
      genNot(b0);
      b1 = cmp(cs, 'llc', 0, BPF_H, (llProto << 8) | llProto);
      genAnd(b0, b1);
      return b1;
    case LLCSAP.IPX:
      b0 = cmp(cs, 'llc', 0, 0x10 /* B */, LLCSAP.IPX);
      b1 = cmp(cs, 'llc', 0, BPF_H, 0xffff);
      genOr(b0, b1);
      b0 = genSnap(cs, 0x000000, ETHERTYPE.IPX);
      genOr(b0, b1);
      b0 = cmpGt(cs, 'linktype', 0, BPF_H, ETHERMTU);
      genNot(b0);
      genAnd(b0, b1);
      b0 = cmp(cs, 'linktype', 0, BPF_H, ETHERTYPE.IPX);
      genOr(b0, b1);
      return b1;
    case ETHERTYPE.ATALK:
    case ETHERTYPE.AARP:
      b0 = cmpGt(cs, 'linktype', 0, BPF_H, ETHERMTU);
      genNot(b0);
      b1 = llProto === ETHERTYPE.ATALK ? genSnap(cs, 0x080007, ETHERTYPE.ATALK) : genSnap(cs, 0x000000, ETHERTYPE.AARP);
      genAnd(b0, b1);
      b0 = cmp(cs, 'linktype', 0, BPF_H, llProto);
      genOr(b0, b1);
      return b1;
    default:
      if (llProto <= ETHERMTU) {
        b0 = cmpGt(cs, 'linktype', 0, BPF_H, ETHERMTU);
        genNot(b0);
        b1 = cmp(cs, 'linktype', 2, 0x10 /* B */, llProto);
        genAnd(b0, b1);
        return b1;
      }
      return cmp(cs, 'linktype', 0, BPF_H, llProto);
  }
}

function ethertypeToPpptype(llProto: number): number {
  switch (llProto) {
    case ETHERTYPE.IP:
      return PPP.IP;
    case ETHERTYPE.IPV6:
      return PPP.IPV6;
    case ETHERTYPE.DN:
      return PPP.DECNET;
    case ETHERTYPE.ATALK:
      return PPP.APPLE;
    case ETHERTYPE.NS:
      return PPP.NS;
    case LLCSAP.ISONS:
      return PPP.OSI;
    case LLCSAP.STP:
      return PPP.BRPDU;
    case LLCSAP.IPX:
      return PPP.IPX;
    default:
      return llProto;
  }
}

/** Inside Geneve: is there an inner Ethernet header at all (`gen_geneve_ll_check`). */
function genGeneveLlCheck(cs: CodegenState): Block {
  const s = newStmt(BPF_LD | BPF_MEM, cs.offLinkhdr.reg);
  sappend(s, newStmt(BPF_LDX | BPF_MEM, cs.offLinkpl.reg));
  const b = newBlock(BPF_JMP | BPF_JEQ | BPF_X, 0);
  b.stmts = s;
  genNot(b);
  return b;
}

/** Check needed before testing the (inner) link-layer header, if any (`gen_prevlinkhdr_check`). */
export function genPrevlinkhdrCheck(cs: CodegenState): Block | undefined {
  if (cs.isGeneve) return genGeneveLlCheck(cs);
  return undefined;
}

function genMplsLinktype(cs: CodegenState, llProto: number): Block {
  if (llProto === ETHERTYPE.IP || llProto === ETHERTYPE.IPV6) {
    const b0 = mcmp(cs, 'linkpl', -2, 0x10 /* B */, 0x01, 0x01);
    const b1 = mcmp(cs, 'linkpl', 0, 0x10 /* B */, llProto === ETHERTYPE.IP ? 0x40 : 0x60, 0xf0);
    genAnd(b0, b1);
    return b1;
  }
  return cs.error('unsupported protocol over mpls');
}

/** "The link layer carries `llProto`" (an Ethertype, or an LLC SAP <= 1500). */
export function genLinktype(cs: CodegenState, llProto: number): Block {
  if (cs.labelStackDepth > 0) return genMplsLinktype(cs, llProto);
  switch (cs.linktype) {
    case 'EN10MB': {
      const b0 = !cs.isGeneve ? genPrevlinkhdrCheck(cs) : undefined;
      const b1 = genEtherLinktype(cs, llProto);
      if (b0) genAnd(b0, b1);
      return b1;
    }
    case 'RAW':
      if (llProto === ETHERTYPE.IP) return mcmp(cs, 'linkhdr', 0, 0x10 /* B */, 0x40, 0xf0);
      if (llProto === ETHERTYPE.IPV6) return mcmp(cs, 'linkhdr', 0, 0x10 /* B */, 0x60, 0xf0);
      return genFalse();
    case 'PPP':
      return cmp(cs, 'linktype', 0, BPF_H, ethertypeToPpptype(llProto));
  }
}
