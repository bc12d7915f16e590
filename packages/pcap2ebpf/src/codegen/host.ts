/** Host and network address tests: IPv4, IPv6, Ethernet, DECnet (`gen_host`, `gen_host6`, ...). */
import type { Dir, Proto } from '../lang/ast.js';
import { BPF_B, BPF_H, BPF_W } from '../cbpf/opcode.js';
import { type Block, genAnd, genOr } from './blocks.js';
import { ETHERTYPE } from './constants.js';
import { genLinktype } from './linktype.js';
import { bcmp, cmp, mcmp } from './loads.js';
import type { CodegenState } from './state.js';

/** "not valid qualifiers for addresses other than 802.11 MAC addresses" and friends. */
export function wlanDirError(cs: CodegenState, dir: Dir, what: string): never {
  switch (dir) {
    case 'ra':
    case 'ta':
      return cs.error(`'${dir}' is not a valid qualifier for ${what}`);
    default: {
      const n = dir.slice(4);
      return cs.error(`'addr${n}' and 'address${n}' are not valid qualifiers for ${what}`);
    }
  }
}

/**
 * libpcap's direction dispatch for address tests: `src` and `dst` test one offset; `and`, `or`
 * and the default test the source, then the destination (in that order, which fixes the block
 * numbering), and combine them.
 */
function byDirection(
  cs: CodegenState,
  dir: Dir,
  srcOff: number,
  dstOff: number,
  test: (offset: number) => Block,
): Block {
  switch (dir) {
    case 'src':
      return test(srcOff);
    case 'dst':
      return test(dstOff);
    case 'and':
    case 'or':
    case 'default': {
      const b0 = test(srcOff);
      const b1 = test(dstOff);
      if (dir === 'and') genAnd(b0, b1);
      else genOr(b0, b1);
      return b1;
    }
    default:
      return wlanDirError(cs, dir, 'addresses other than 802.11 MAC addresses');
  }
}

function hostop(
  cs: CodegenState,
  addr: number,
  mask: number,
  dir: Dir,
  llProto: number,
  srcOff: number,
  dstOff: number,
): Block {
  return byDirection(cs, dir, srcOff, dstOff, (offset) => {
    const b0 = genLinktype(cs, llProto);
    const b1 = mcmp(cs, 'linkpl', offset, BPF_W, addr, mask);
    genAnd(b0, b1);
    return b1;
  });
}

function hostop6(
  cs: CodegenState,
  addr: Uint8Array,
  mask: Uint8Array,
  dir: Dir,
  srcOff: number,
  dstOff: number,
): Block {
  return byDirection(cs, dir, srcOff, dstOff, (offset) => hostop6At(cs, addr, mask, offset));
}

function hostop6At(cs: CodegenState, addr: Uint8Array, mask: Uint8Array, offset: number): Block {
  const word = (a: Uint8Array, i: number): number =>
    ((a[4 * i]! << 24) | (a[4 * i + 1]! << 16) | (a[4 * i + 2]! << 8) | a[4 * i + 3]!) >>> 0;
  const b1 = mcmp(cs, 'linkpl', offset + 12, BPF_W, word(addr, 3), word(mask, 3));
  let b0 = mcmp(cs, 'linkpl', offset + 8, BPF_W, word(addr, 2), word(mask, 2));
  genAnd(b0, b1);
  b0 = mcmp(cs, 'linkpl', offset + 4, BPF_W, word(addr, 1), word(mask, 1));
  genAnd(b0, b1);
  b0 = mcmp(cs, 'linkpl', offset + 0, BPF_W, word(addr, 0), word(mask, 0));
  genAnd(b0, b1);
  b0 = genLinktype(cs, ETHERTYPE.IPV6);
  genAnd(b0, b1);
  return b1;
}

const NOT_IMPLEMENTED: Partial<Record<Proto, string>> = {
  atalk: 'AppleTalk',
  lat: 'LAT',
  sca: 'SCA',
  moprc: 'MOPRC',
  mopdl: 'MOPDL',
  aarp: 'AARP',
  iso: 'ISO',
  ipx: 'IPX',
};

/** DECnet address test over all four routing-header layouts (`gen_dnhostop`). */
function dnhostop(cs: CodegenState, addr: number, dir: Dir): Block {
  let offsetSh: number;
  let offsetLh: number;
  switch (dir) {
    case 'dst':
      offsetSh = 1;
      offsetLh = 7;
      break;
    case 'src':
      offsetSh = 3;
      offsetLh = 15;
      break;
    case 'and':
    case 'or':
    case 'default': {
      const b0 = dnhostop(cs, addr, 'src');
      const b1 = dnhostop(cs, addr, 'dst');
      if (dir === 'and') genAnd(b0, b1);
      else genOr(b0, b1);
      return b1;
    }
    default:
      return wlanDirError(cs, dir, 'addresses other than 802.11 MAC addresses');
  }
  // libpcap byte-swaps with ntohs() on a little-endian host, which is what pwru runs on.
  const swap = (v: number): number => ((v & 0xff) << 8) | ((v >> 8) & 0xff);
  const b0 = genLinktype(cs, ETHERTYPE.DN);
  let tmp = mcmp(cs, 'linkpl', 2, BPF_H, swap(0x0681), swap(0x07ff));
  const b1 = cmp(cs, 'linkpl', 2 + 1 + offsetLh, BPF_H, swap(addr & 0xffff));
  genAnd(tmp, b1);
  tmp = mcmp(cs, 'linkpl', 2, BPF_B, 0x06, 0x7);
  let b2 = cmp(cs, 'linkpl', 2 + offsetLh, BPF_H, swap(addr & 0xffff));
  genAnd(tmp, b2);
  genOr(b2, b1);
  tmp = mcmp(cs, 'linkpl', 2, BPF_H, swap(0x0281), swap(0x07ff));
  b2 = cmp(cs, 'linkpl', 2 + 1 + offsetSh, BPF_H, swap(addr & 0xffff));
  genAnd(tmp, b2);
  genOr(b2, b1);
  tmp = mcmp(cs, 'linkpl', 2, BPF_B, 0x02, 0x7);
  b2 = cmp(cs, 'linkpl', 2 + offsetSh, BPF_H, swap(addr & 0xffff));
  genAnd(tmp, b2);
  genOr(b2, b1);
  genAnd(b0, b1);
  return b1;
}

/** IPv4 host/net test under a protocol qualifier (`gen_host`). */
export function genHost(cs: CodegenState, addr: number, mask: number, proto: Proto, dir: Dir, isNet: boolean): Block {
  const typestr = isNet ? 'net' : 'host';
  switch (proto) {
    case 'default': {
      let b0 = genHost(cs, addr, mask, 'ip', dir, isNet);
      if (cs.labelStackDepth === 0) {
        const b1 = genHost(cs, addr, mask, 'arp', dir, isNet);
        genOr(b0, b1);
        b0 = genHost(cs, addr, mask, 'rarp', dir, isNet);
        genOr(b1, b0);
      }
      return b0;
    }
    case 'link':
      return cs.error(`link-layer modifier applied to ${typestr}`);
    case 'ip':
      return hostop(cs, addr, mask, dir, ETHERTYPE.IP, 12, 16);
    case 'rarp':
      return hostop(cs, addr, mask, dir, ETHERTYPE.REVARP, 14, 24);
    case 'arp':
      return hostop(cs, addr, mask, dir, ETHERTYPE.ARP, 14, 24);
    case 'decnet':
      return dnhostop(cs, addr, dir);
    case 'ip6':
      return cs.error("'ip6' modifier applied to ip host");
    default: {
      const ni = NOT_IMPLEMENTED[proto];
      if (ni) return cs.error(`${ni} host filtering not implemented`);
      return cs.error(`'${proto}' modifier applied to ${typestr}`);
    }
  }
}

/** IPv6 host/net test under a protocol qualifier (`gen_host6`). */
export function genHost6(
  cs: CodegenState,
  addr: Uint8Array,
  mask: Uint8Array,
  proto: Proto,
  dir: Dir,
  isNet: boolean,
): Block {
  const typestr = isNet ? 'net' : 'host';
  switch (proto) {
    case 'default':
    case 'ip6':
      return hostop6(cs, addr, mask, dir, 8, 24);
    case 'link':
      return cs.error(`link-layer modifier applied to ip6 ${typestr}`);
    case 'atalk':
      return cs.error(`AppleTalk modifier applied to ip6 ${typestr}`);
    default:
      return cs.error(`'${proto}' modifier applied to ip6 ${typestr}`);
  }
}

/** Ethernet address test (`gen_ehostop`). */
export function genEhostop(cs: CodegenState, eaddr: Uint8Array, dir: Dir): Block {
  switch (dir) {
    case 'src':
      return bcmp(cs, 'linkhdr', 6, eaddr);
    case 'dst':
      return bcmp(cs, 'linkhdr', 0, eaddr);
    case 'and':
    case 'or':
    case 'default': {
      const b0 = genEhostop(cs, eaddr, 'src');
      const b1 = genEhostop(cs, eaddr, 'dst');
      if (dir === 'and') genAnd(b0, b1);
      else genOr(b0, b1);
      return b1;
    }
    case 'ra':
    case 'ta':
      return cs.error(`'${dir}' is only supported on 802.11 with 802.11 headers`);
    default: {
      const n = dir.slice(4);
      return cs.error(`'addr${n}' and 'address${n}' are only supported on 802.11 with 802.11 headers`);
    }
  }
}
