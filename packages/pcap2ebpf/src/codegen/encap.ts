/**
 * Encapsulations that move the headers every later test looks at: `vlan`, `mpls`, `pppoes`, `geneve`.
 * Their offset changes are positional (they apply to everything parsed afterwards), as in libpcap.
 */
import {
  BPF_ADD,
  BPF_ALU,
  BPF_AND,
  BPF_B,
  BPF_H,
  BPF_IMM,
  BPF_IND,
  BPF_JEQ,
  BPF_JMP,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_MEM,
  BPF_MISC,
  BPF_MUL,
  BPF_ST,
  BPF_STX,
  BPF_TAX,
  BPF_TXA,
  BPF_W,
  BPF_X,
} from '../cbpf/opcode.js';
import { type Block, genAnd, genOr, jmp, newBlock, newStmt, sappend, type Stmt } from './blocks.js';
import { ETHERTYPE, GENEVE_PORT, IPPROTO, PPP } from './constants.js';
import { genLinktype, genTrue } from './linktype.js';
import { absOffsetVarpart, loadxIphdrlen, mcmp, type OffRel } from './loads.js';
import { genPort4, genPort6 } from './port.js';
import type { CodegenState } from './state.js';

/** `vlan [id]`. */
export function genVlan(cs: CodegenState, vlanNum: number | undefined): Block {
  if (cs.labelStackDepth > 0) cs.error('no VLAN match after MPLS');
  if (cs.linktype !== 'EN10MB') cs.error(`no VLAN support for ${cs.linktypeDescription()}`);
  let b0 = genLinktype(cs, ETHERTYPE.VLAN_8021Q);
  let b1 = genLinktype(cs, ETHERTYPE.VLAN_8021AD);
  genOr(b0, b1);
  b0 = b1;
  b1 = genLinktype(cs, ETHERTYPE.VLAN_QINQ);
  genOr(b0, b1);
  b0 = b1;
  if (vlanNum !== undefined) {
    if (vlanNum > 0x0fff) cs.error(`VLAN tag ${vlanNum} greater than maximum 4095`);
    b1 = mcmp(cs, 'linkpl', 0, BPF_H, vlanNum, 0x0fff);
    genAnd(b0, b1);
    b0 = b1;
  }
  cs.offLinkpl.constantPart += 4;
  cs.offLinktype.constantPart += 4;
  cs.vlanStackDepth++;
  return b0;
}

/** `mpls [label]`. */
export function genMpls(cs: CodegenState, label: number | undefined): Block {
  let b0: Block;
  if (cs.labelStackDepth > 0) {
    b0 = mcmp(cs, 'prevmplshdr', 2, BPF_B, 0, 0x01);
  } else if (cs.linktype === 'EN10MB') {
    b0 = genLinktype(cs, ETHERTYPE.MPLS);
  } else if (cs.linktype === 'PPP') {
    b0 = genLinktype(cs, PPP.MPLS_UCAST);
  } else {
    return cs.error(`no MPLS support for ${cs.linktypeDescription()}`);
  }
  if (label !== undefined) {
    if (label > 0xfffff) cs.error(`MPLS label ${label} greater than maximum 1048575`);
    const b1 = mcmp(cs, 'linkpl', 0, BPF_W, (label << 12) >>> 0, 0xfffff000);
    genAnd(b0, b1);
    b0 = b1;
  }
  cs.offNlNosnap += 4;
  cs.offNl += 4;
  cs.labelStackDepth++;
  return b0;
}

/** `pppoed`. */
export function genPppoed(cs: CodegenState): Block {
  return genLinktype(cs, ETHERTYPE.PPPOED);
}

/** `pppoes [session]`: afterwards the link layer is PPP inside the PPPoE payload. */
export function genPppoes(cs: CodegenState, sess: number | undefined): Block {
  let b0 = genLinktype(cs, ETHERTYPE.PPPOES);
  if (sess !== undefined) {
    if (sess > 0xffff) cs.error(`PPPoE session number ${sess} greater than maximum 65535`);
    const b1 = mcmp(cs, 'linkpl', 0, BPF_W, sess, 0x0000ffff);
    genAnd(b0, b1);
    b0 = b1;
  }
  cs.pushLinkhdr('PPP', cs.offLinkpl.isVariable, cs.offLinkpl.constantPart + cs.offNl + 6, cs.offLinkpl.reg);
  cs.offLinktype = { ...cs.offLinkhdr };
  cs.offLinkpl.constantPart = cs.offLinkhdr.constantPart + 2;
  cs.offNl = 0;
  cs.offNlNosnap = 0;
  return b0;
}

function geneveCheck(cs: CodegenState, portfn: typeof genPort4, offrel: OffRel, vni: number | undefined): Block {
  let b0 = portfn(cs, GENEVE_PORT, IPPROTO.UDP, 'dst');
  let b1 = mcmp(cs, offrel, 8, BPF_B, 0, 0xc0);
  genAnd(b0, b1);
  b0 = b1;
  if (vni !== undefined) {
    if (vni > 0xffffff) cs.error(`Geneve VNI ${vni} greater than maximum 16777215`);
    b1 = mcmp(cs, offrel, 12, BPF_W, (vni << 8) >>> 0, 0xffffff00);
    genAnd(b0, b1);
    b0 = b1;
  }
  return b0;
}

function geneveOffsets(cs: CodegenState): Stmt {
  const s = newStmt(BPF_ALU | BPF_ADD | BPF_K, cs.offLinkpl.constantPart + cs.offNl + 8);
  sappend(s, newStmt(BPF_MISC | BPF_TAX));
  sappend(s, newStmt(BPF_ALU | BPF_ADD | BPF_K, 2));
  cs.offLinktype.reg = cs.allocReg();
  cs.offLinktype.isVariable = true;
  cs.offLinktype.constantPart = 0;
  sappend(s, newStmt(BPF_ST, cs.offLinktype.reg));
  sappend(s, newStmt(BPF_LD | BPF_IND | BPF_B, 0));
  sappend(s, newStmt(BPF_ALU | BPF_AND | BPF_K, 0x3f));
  sappend(s, newStmt(BPF_ALU | BPF_MUL | BPF_K, 4));
  sappend(s, newStmt(BPF_ALU | BPF_ADD | BPF_K, 8));
  sappend(s, newStmt(BPF_ALU | BPF_ADD | BPF_X, 0));
  cs.pushLinkhdr('EN10MB', true, 0, cs.allocReg());
  sappend(s, newStmt(BPF_ST, cs.offLinkhdr.reg));
  cs.noOptimize = true;
  sappend(s, newStmt(BPF_LD | BPF_IND | BPF_H, 2));
  sappend(s, newStmt(BPF_LDX | BPF_MEM, cs.offLinkhdr.reg));
  const sProto = newStmt(jmp(BPF_JEQ), ETHERTYPE.TEB);
  sappend(s, sProto);
  const txa = newStmt(BPF_MISC | BPF_TXA);
  sappend(s, txa);
  sProto.jt = txa;
  sappend(s, newStmt(BPF_ALU | BPF_ADD | BPF_K, 12));
  sappend(s, newStmt(BPF_ST, cs.offLinktype.reg));
  sappend(s, newStmt(BPF_ALU | BPF_ADD | BPF_K, 2));
  sappend(s, newStmt(BPF_MISC | BPF_TAX));
  cs.offLinkpl.reg = cs.allocReg();
  cs.offLinkpl.isVariable = true;
  cs.offLinkpl.constantPart = 0;
  const stx = newStmt(BPF_STX, cs.offLinkpl.reg);
  sappend(s, stx);
  sProto.jf = stx;
  cs.offNl = 0;
  return s;
}

/** `geneve [vni]`: UDP port 6081 over IPv4 or IPv6; inner offsets are computed at run time. */
export function genGeneve(cs: CodegenState, vni: number | undefined): Block {
  let b0 = geneveCheck(cs, genPort4, 'tran_ipv4', vni);
  const s4 = loadxIphdrlen(cs);
  sappend(s4, newStmt(BPF_MISC | BPF_TXA));
  let b1 = newBlock(BPF_JMP | BPF_JEQ | BPF_X, 0);
  b1.stmts = s4;
  genAnd(b0, b1);
  const v4 = b1;

  b0 = geneveCheck(cs, genPort6, 'tran_ipv6', vni);
  let s6 = absOffsetVarpart(cs, cs.offLinkpl);
  if (s6) {
    sappend(s6, newStmt(BPF_LD | BPF_IMM, 40));
    sappend(s6, newStmt(BPF_ALU | BPF_ADD | BPF_X, 0));
  } else s6 = newStmt(BPF_LD | BPF_IMM, 40);
  sappend(s6, newStmt(BPF_MISC | BPF_TAX));
  b1 = newBlock(BPF_JMP | BPF_JEQ | BPF_X, 0);
  b1.stmts = s6;
  genAnd(b0, b1);
  genOr(v4, b1);
  b0 = b1;

  const s = geneveOffsets(cs);
  b1 = genTrue();
  sappend(s, b1.stmts);
  b1.stmts = s;
  genAnd(b0, b1);
  cs.isGeneve = true;
  return b1;
}
