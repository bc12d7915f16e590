/** Length, byte, broadcast/multicast, direction, interface and LLC primitives. */
import type { Proto } from '../lang/ast.js';
import {
  BPF_ALU,
  BPF_AND,
  BPF_B,
  BPF_H,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JSET,
  BPF_K,
  BPF_LD,
  BPF_LEN,
  BPF_OR,
  BPF_W,
} from '../cbpf/opcode.js';
import { type Block, genAnd, genNot, genOr, jmp, newBlock, newStmt } from './blocks.js';
import {
  ETHERMTU,
  ETHERTYPE,
  LLC,
  LLC_S_SUBTYPES,
  LLC_U_SUBTYPES,
  PACKET_OUTGOING,
  SKF_AD_IFINDEX,
  SKF_AD_OFF,
  SKF_AD_PKTTYPE,
} from './constants.js';
import { genEhostop } from './host.js';
import { genLinktype, genPrevlinkhdrCheck } from './linktype.js';
import { cmp, cmpGe, cmpGt, cmpLt, loadA, mcmp } from './loads.js';
import type { CodegenState } from './state.js';

/** `less N` / `greater N`. */
export function genLen(isLess: boolean, n: number): Block {
  const b = newBlock(jmp(isLess ? BPF_JGT : BPF_JGE), n);
  b.stmts = newStmt(BPF_LD | BPF_W | BPF_LEN);
  if (isLess) genNot(b);
  return b;
}

/** `byte N op V`; `&` and `|` reproduce libpcap 1.10's bug (no load: they test A as left by earlier code). */
export function genByteop(cs: CodegenState, op: '&' | '|' | '<' | '>' | '=', idx: number, val: number): Block {
  switch (op) {
    case '=':
      return cmp(cs, 'linkhdr', idx, BPF_B, val);
    case '<':
      return cmpLt(cs, 'linkhdr', idx, BPF_B, val);
    case '>':
      return cmpGt(cs, 'linkhdr', idx, BPF_B, val);
    default: {
      const b = newBlock(jmp(BPF_JEQ));
      b.stmts = newStmt(BPF_ALU | (op === '|' ? BPF_OR : BPF_AND) | BPF_K, val);
      genNot(b);
      return b;
    }
  }
}

const ETHER_BROADCAST = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

/** `[ether|ip] broadcast`. */
export function genBroadcast(cs: CodegenState, proto: Proto): Block {
  switch (proto) {
    case 'default':
    case 'link': {
      if (cs.linktype !== 'EN10MB') return cs.error('not a broadcast link');
      const b1 = genPrevlinkhdrCheck(cs);
      const b0 = genEhostop(cs, ETHER_BROADCAST, 'dst');
      if (b1) genAnd(b1, b0);
      return b0;
    }
    case 'ip': {
      if (cs.netmask === undefined) return cs.error("netmask not known, so 'ip broadcast' not supported");
      const b0 = genLinktype(cs, ETHERTYPE.IP);
      const hostmask = ~cs.netmask >>> 0;
      const b1 = mcmp(cs, 'linkpl', 16, BPF_W, 0, hostmask);
      const b2 = mcmp(cs, 'linkpl', 16, BPF_W, hostmask, hostmask);
      genOr(b1, b2);
      genAnd(b0, b2);
      return b2;
    }
    default:
      return cs.error('only link-layer/IP broadcast filters supported');
  }
}

/** `[ether|ip|ip6] multicast`. */
export function genMulticast(cs: CodegenState, proto: Proto): Block {
  switch (proto) {
    case 'default':
    case 'link': {
      if (cs.linktype !== 'EN10MB') break;
      const b1 = genPrevlinkhdrCheck(cs);
      const b0 = newBlock(jmp(BPF_JSET), 1);
      b0.stmts = loadA(cs, 'linkhdr', 0, BPF_B);
      if (b1) genAnd(b1, b0);
      return b0;
    }
    case 'ip': {
      const b0 = genLinktype(cs, ETHERTYPE.IP);
      const b1 = cmpGe(cs, 'linkpl', 16, BPF_B, 224);
      genAnd(b0, b1);
      return b1;
    }
    case 'ip6': {
      const b0 = genLinktype(cs, ETHERTYPE.IPV6);
      const b1 = cmp(cs, 'linkpl', 24, BPF_B, 255);
      genAnd(b0, b1);
      return b1;
    }
    default:
      break;
  }
  return cs.error(
    'link-layer multicast filters supported only on ethernet/FDDI/token ring/ARCNET/802.11/ATM LANE/Fibre Channel',
  );
}

/** `inbound` / `outbound` through Linux's packet-type ancillary load, as for a live or dead handle. */
export function genInbound(cs: CodegenState, outbound: boolean): Block {
  const b0 = cmp(cs, 'linkhdr', SKF_AD_OFF + SKF_AD_PKTTYPE, BPF_H, PACKET_OUTGOING);
  if (!outbound) genNot(b0);
  return b0;
}

/** `ifindex N` through Linux's interface-index ancillary load. */
export function genIfindex(cs: CodegenState, ifindex: number): Block {
  return cmp(cs, 'linkhdr', SKF_AD_OFF + SKF_AD_IFINDEX, BPF_W, ifindex);
}

function genLlcInternal(cs: CodegenState): Block {
  if (cs.linktype !== 'EN10MB') return cs.error(`'llc' not supported for ${cs.linktypeDescription()}`);
  const b0 = cmpGt(cs, 'linktype', 0, BPF_H, ETHERMTU);
  genNot(b0);
  const b1 = cmp(cs, 'llc', 0, BPF_H, 0xffff);
  genNot(b1);
  genAnd(b0, b1);
  return b1;
}

/** `llc [i|s|u|rr|rnr|rej|ui|ua|disc|dm|sabme|test|xid|frmr]`. */
export function genLlc(cs: CodegenState, subtype: string | undefined): Block {
  if (subtype === undefined) return genLlcInternal(cs);
  const name = subtype.toLowerCase();
  let b1: Block;
  if (name === 'i') {
    const b0 = genLlcInternal(cs);
    b1 = newBlock(jmp(BPF_JSET), 0x01);
    b1.stmts = loadA(cs, 'llc', 2, BPF_B);
    genNot(b1);
    genAnd(b0, b1);
    return b1;
  }
  if (name === 's' || name === 'u') {
    const b0 = genLlcInternal(cs);
    b1 = mcmp(cs, 'llc', 2, BPF_B, name === 's' ? LLC.S_FMT : LLC.U_FMT, 0x03);
    genAnd(b0, b1);
    return b1;
  }
  const s = LLC_S_SUBTYPES.get(subtype);
  const u = LLC_U_SUBTYPES.get(subtype);
  if (s === undefined && u === undefined) return cs.error(`unknown LLC type name "${subtype}"`);
  const b0 = genLlcInternal(cs);
  b1 = s !== undefined ? mcmp(cs, 'llc', 2, BPF_B, s, LLC.S_CMD_MASK) : mcmp(cs, 'llc', 2, BPF_B, u!, LLC.U_CMD_MASK);
  genAnd(b0, b1);
  return b1;
}

const LINK_SPECIFIC_MESSAGES: Record<string, string> = {
  type: '802.11 link-layer types supported only on 802.11',
  'type-subtype': '802.11 link-layer types supported only on 802.11',
  subtype: '802.11 link-layer types supported only on 802.11',
  dir: 'frame direction supported only with 802.11 headers',
  ifname: 'ifname supported only on PF linktype',
  ruleset: 'ruleset supported only on PF linktype',
  rnr: 'rnr supported only on PF linktype',
  srnr: 'srnr supported only on PF linktype',
  reason: 'reason supported only on PF linktype',
  action: 'action supported only on PF linktype',
  oamf4ec: "'oam4ec' supported only on raw ATM",
  oamf4sc: "'oam4sc' supported only on raw ATM",
  hfisu: "'hfisu' supported only on MTP2_HSL",
  hlssu: "'hlssu' supported only on MTP2_HSL",
  hmsu: "'hmsu' supported only on MTP2_HSL",
};
const MTP2 = new Set(['fisu', 'lssu', 'msu']);
const SS7 = new Set(['sio', 'opc', 'dpc', 'sls']);

const PF_REASONS = [
  'match',
  'bad-offset',
  'fragment',
  'short',
  'normalize',
  'memory',
  'bad-timestamp',
  'congestion',
  'ip-option',
  'proto-cksum',
  'state-mismatch',
  'state-insert',
  'state-limit',
  'src-limit',
  'synproxy',
];
const PF_ACTIONS = [
  'pass',
  'accept',
  'drop',
  'block',
  'scrub',
  'noscrub',
  'nat',
  'nonat',
  'binat',
  'nobinat',
  'rdr',
  'nordr',
  'synproxy-drop',
];
const WLAN_TYPES: Record<string, number> = { data: 0x08, mgt: 0x00, management: 0x00, ctl: 0x04, control: 0x04 };
const WLAN_SUBTYPES: Array<[number, string[]]> = [
  [
    0x00,
    [
      'assocreq',
      'assoc-req',
      'assocresp',
      'assoc-resp',
      'reassocreq',
      'reassoc-req',
      'reassocresp',
      'reassoc-resp',
      'probereq',
      'probe-req',
      'proberesp',
      'probe-resp',
      'beacon',
      'atim',
      'disassoc',
      'disassociation',
      'auth',
      'authentication',
      'deauth',
      'deauthentication',
    ],
  ],
  [0x04, ['ps-poll', 'rts', 'cts', 'ack', 'cf-end', 'cf-end-ack']],
  [
    0x08,
    [
      'data',
      'data-cf-ack',
      'data-cf-poll',
      'data-cf-ack-poll',
      'null',
      'cf-ack',
      'cf-poll',
      'cf-ack-poll',
      'qos-data',
      'qos-data-cf-ack',
      'qos-data-cf-poll',
      'qos-data-cf-ack-poll',
      'qos',
      'qos-cf-poll',
      'qos-cf-ack-poll',
    ],
  ],
];
const has = (list: string[], name: string): boolean => list.includes(name.toLowerCase());
const hex2 = (v: number): string => `0x${v.toString(16).padStart(2, '0')}`;

/** The grammar's own checks of the names and numbers these keywords take (made before any link check). */
function checkLinkSpecificArgs(cs: CodegenState, keyword: string, args: Array<string | number>): void {
  const [a, b] = args;
  const wlanType = (v: string | number): number => {
    if (typeof v === 'number') {
      if (v & ~0x0c) cs.error(`invalid 802.11 type value ${hex2(v)}`);
      return v;
    }
    const t = WLAN_TYPES[v.toLowerCase()];
    if (t === undefined) cs.error(`unknown 802.11 type name "${v}"`);
    return t!;
  };
  switch (keyword) {
    case 'reason':
      if (typeof a === 'string' && !has(PF_REASONS, a)) cs.error(`unknown PF reason "${a}"`);
      break;
    case 'action':
      if (typeof a === 'string' && !has(PF_ACTIONS, a)) cs.error(`unknown PF action "${a}"`);
      break;
    case 'type':
      wlanType(a!);
      break;
    case 'type-subtype': {
      const t = wlanType(a!);
      if (typeof b === 'number') {
        if (b & ~0xf0) cs.error(`invalid 802.11 subtype value ${hex2(b)}`);
      } else {
        const table = WLAN_SUBTYPES.find(([ty]) => ty === t);
        if (!table) cs.error('unknown 802.11 type');
        if (!has(table![1], b!)) cs.error(`unknown 802.11 subtype name "${b}"`);
      }
      break;
    }
    case 'subtype':
      if (!WLAN_SUBTYPES.some(([, names]) => has(names, a as string))) cs.error('unknown 802.11 type name');
      break;
    case 'dir':
      if (typeof a === 'string' && !has(['nods', 'tods', 'fromds', 'dstods'], a)) cs.error('unknown 802.11 direction');
      break;
  }
}

/** ATM, MTP, PF and 802.11 keywords: this compiler's link types never have them (libpcap's errors). */
export function genLinkSpecific(cs: CodegenState, keyword: string, args: Array<string | number> = []): never {
  checkLinkSpecificArgs(cs, keyword, args);
  const m = LINK_SPECIFIC_MESSAGES[keyword];
  if (m) return cs.error(m);
  if (MTP2.has(keyword)) return cs.error(`'${keyword}' supported only on MTP2`);
  const plain = keyword.startsWith('h') && SS7.has(keyword.slice(1)) ? keyword.slice(1) : keyword;
  if (SS7.has(plain)) return cs.error(`'${plain}' supported only on SS7`);
  return cs.error(`'${keyword}' supported only on raw ATM`);
}
