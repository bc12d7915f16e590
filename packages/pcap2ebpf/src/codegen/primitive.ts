/** `[proto] [dir] [type] id` primitives (`gen_scode`, `gen_ncode`, `gen_mcode`, `gen_mcode6`, `gen_ecode`). */
import type { Id, Proto, Qual } from '../lang/ast.js';
import { parseIpv6 } from '../names/addresses.js';
import { type Block, genAnd, genOr } from './blocks.js';
import { IPPROTO, ISO, LLCSAP, ETHERTYPE, OFFSET_NOT_SET, PROTO_UNDEF } from './constants.js';
import { genEhostop, genHost, genHost6 } from './host.js';
import { genPrevlinkhdrCheck } from './linktype.js';
import { genPortBoth, genPortrangeBoth } from './port.js';
import { genProto, genProtochain } from './proto.js';
import type { CodegenState } from './state.js';

/** `__pcap_atoin`: dotted decimal, left-aligned; returns [value, bits] or undefined if a part > 255. */
function atoin(s: string): [number, number] | undefined {
  let addr = 0;
  let len = 0;
  let i = 0;
  for (;;) {
    let n = 0;
    while (i < s.length && s[i] !== '.') {
      if (n > 25) return undefined;
      n = n * 10 + (s.charCodeAt(i++) - 48);
    }
    if (n > 255) return undefined;
    addr = ((addr << 8) | (n & 0xff)) >>> 0;
    len += 8;
    if (i >= s.length) return [addr, len];
    i++;
  }
}

/** `__pcap_atodn`: DECnet `area.node`. */
function atodn(s: string): number | undefined {
  const m = /^\s*([-+]?\d+)\.([-+]?\d+)/.exec(s);
  if (!m) return undefined;
  return (((Number(m[1]) << 10) & 0o176000) | (Number(m[2]) & 0o1777)) >>> 0;
}

const shl = (v: number, n: number): number => (n >= 32 ? 0 : (v << n) >>> 0);

function ipProtoOfPortQual(cs: CodegenState, proto: Proto, what: 'port' | 'portrange'): number {
  switch (proto) {
    case 'udp':
      return IPPROTO.UDP;
    case 'tcp':
      return IPPROTO.TCP;
    case 'sctp':
      return IPPROTO.SCTP;
    case 'default':
      return PROTO_UNDEF;
    default:
      return cs.error(`illegal qualifier of '${what}'`);
  }
}

/** A number or dotted-quad in id position (`gen_ncode`). */
function genNcode(cs: CodegenState, s: string | undefined, v: number, q: Qual): Block {
  let vlen: number;
  if (s === undefined) vlen = 32;
  else if (q.proto === 'decnet') {
    const dn = atodn(s);
    if (dn === undefined) return cs.error(`malformed decnet address '${s}'`);
    v = dn;
    vlen = 32;
  } else {
    const r = atoin(s);
    if (!r) return cs.error(`invalid IPv4 address '${s}'`);
    [v, vlen] = r;
  }
  switch (q.addr) {
    case 'default':
    case 'host':
    case 'net': {
      if (q.proto === 'decnet') return genHost(cs, v, 0, q.proto, q.dir, q.addr === 'net');
      if (q.proto === 'link') return cs.error('illegal link layer address');
      let mask = 0xffffffff;
      if (s === undefined && q.addr === 'net') {
        while (v && (v & 0xff000000) === 0) {
          v = (v << 8) >>> 0;
          mask = (mask << 8) >>> 0;
        }
      } else {
        v = shl(v, 32 - vlen);
        mask = shl(mask, 32 - vlen);
      }
      return genHost(cs, v, mask, q.proto, q.dir, q.addr === 'net');
    }
    case 'port': {
      const p = ipProtoOfPortQual(cs, q.proto, 'port');
      if (v > 65535) return cs.error(`illegal port number ${v} > 65535`);
      return genPortBoth(cs, v, p, q.dir);
    }
    case 'portrange': {
      const p = ipProtoOfPortQual(cs, q.proto, 'portrange');
      if (v > 65535) return cs.error(`illegal port number ${v} > 65535`);
      return genPortrangeBoth(cs, v, v, p, q.dir);
    }
    case 'gateway':
      return cs.error("'gateway' requires a name");
    case 'proto':
      if (q.dir !== 'default') return cs.error("direction applied to 'proto'");
      return genProto(cs, v, q.proto);
    case 'protochain':
      return genProtochain(cs, v, q.proto);
    case 'undef':
      return cs.error('syntax error in filter expression');
  }
}

const ETHER_PROTOS: ReadonlyMap<string, number> = new Map([
  ['aarp', ETHERTYPE.AARP],
  ['arp', ETHERTYPE.ARP],
  ['atalk', ETHERTYPE.ATALK],
  ['decnet', ETHERTYPE.DN],
  ['ip', ETHERTYPE.IP],
  ['ip6', ETHERTYPE.IPV6],
  ['lat', ETHERTYPE.LAT],
  ['loopback', ETHERTYPE.LOOPBACK],
  ['mopdl', ETHERTYPE.MOPDL],
  ['moprc', ETHERTYPE.MOPRC],
  ['rarp', ETHERTYPE.REVARP],
  ['sca', ETHERTYPE.SCA],
  ['iso', LLCSAP.ISONS],
  ['stp', LLCSAP.STP],
  ['ipx', LLCSAP.IPX],
  ['netbeui', LLCSAP.NETBEUI],
]);

function lookupProto(cs: CodegenState, name: string, proto: Proto): number {
  switch (proto) {
    case 'default':
    case 'ip':
    case 'ip6': {
      const v = cs.names.protocol(name);
      if (v === undefined) return cs.error(`unknown ip proto '${name}'`);
      return v;
    }
    case 'link': {
      const v = ETHER_PROTOS.get(name);
      if (v === undefined) return cs.error(`unknown ether proto '${name}'`);
      return v;
    }
    case 'iso':
      if (name === 'esis') return ISO.ESIS;
      if (name === 'isis') return ISO.ISIS;
      if (name === 'clnp') return ISO.CLNP;
      return cs.error(`unknown osi proto '${name}'`);
    default:
      return -1;
  }
}

function portProto(
  cs: CodegenState,
  name: string,
  proto: Proto,
  real: 'tcp' | 'udp' | 'any',
  inRange: boolean,
): number {
  const what = inRange ? 'port in range' : 'port';
  if (proto === 'udp') {
    if (real === 'tcp') cs.error(`${what} '${name}' is tcp`);
    return IPPROTO.UDP;
  }
  if (proto === 'tcp') {
    if (real === 'udp') cs.error(`${what} '${name}' is udp`);
    return IPPROTO.TCP;
  }
  if (proto === 'sctp') {
    if (real === 'udp') cs.error(`${what} '${name}' is udp`);
    if (real === 'tcp') cs.error(`${what} '${name}' is tcp`);
    return IPPROTO.SCTP;
  }
  return real === 'tcp' ? IPPROTO.TCP : real === 'udp' ? IPPROTO.UDP : PROTO_UNDEF;
}

/** A name in id position (`gen_scode`). */
function genScode(cs: CodegenState, name: string, q: Qual): Block {
  const { proto, dir } = q;
  switch (q.addr) {
    case 'net': {
      let addr = cs.names.network(name) ?? 0;
      if (addr === 0) return cs.error(`unknown network '${name}'`);
      let mask = 0xffffffff;
      while (addr && (addr & 0xff000000) === 0) {
        addr = (addr << 8) >>> 0;
        mask = (mask << 8) >>> 0;
      }
      return genHost(cs, addr, mask, proto, dir, true);
    }
    case 'default':
    case 'host': {
      if (proto === 'link') {
        if (cs.linktype !== 'EN10MB')
          return cs.error('only ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel supports link-level host name');
        const eaddr = cs.names.ether(name);
        if (!eaddr) return cs.error(`unknown ether host '${name}'`);
        const tmp = genPrevlinkhdrCheck(cs);
        const b = genEhostop(cs, eaddr, dir);
        if (tmp) genAnd(tmp, b);
        return b;
      }
      if (proto === 'decnet') return cs.error(`decnet name support not included, '${name}' cannot be translated\n`);
      const addrs = cs.names.host(name);
      if (addrs.length === 0) return cs.error(`unknown host '${name}'`);
      let tproto: Proto = proto;
      let tproto6: Proto = proto;
      if (cs.offLinktype.constantPart === OFFSET_NOT_SET && tproto === 'default') {
        tproto = 'ip';
        tproto6 = 'ip6';
      }
      let b: Block | undefined;
      for (const a of addrs) {
        let tmp: Block;
        if (a.family === 4) {
          if (tproto === 'ip6') continue;
          tmp = genHost(cs, a.addr, 0xffffffff, tproto, dir, false);
        } else {
          if (tproto6 === 'ip') continue;
          tmp = genHost6(cs, a.addr, new Uint8Array(16).fill(0xff), tproto6, dir, false);
        }
        if (b) genOr(b, tmp);
        b = tmp;
      }
      if (!b) return cs.error(`unknown host '${name}'${proto === 'default' ? '' : ' for specified address family'}`);
      return b;
    }
    case 'port':
    case 'portrange': {
      const isRange = q.addr === 'portrange';
      if (proto !== 'default' && proto !== 'udp' && proto !== 'tcp' && proto !== 'sctp')
        return cs.error(`illegal qualifier of '${q.addr}'`);
      if (!isRange) {
        const r = cs.names.port(name);
        if (!r) return cs.error(`unknown port '${name}'`);
        const p = portProto(cs, name, proto, r.proto, false);
        if (r.port < 0) return cs.error(`illegal port number ${r.port} < 0`);
        if (r.port > 65535) return cs.error(`illegal port number ${r.port} > 65535`);
        return genPortBoth(cs, r.port, p, dir);
      }
      const r = cs.names.portRange(name);
      if (!r) return cs.error(`unknown port in range '${name}'`);
      const p = portProto(cs, name, proto, r.proto, true);
      for (const port of [r.port1, r.port2]) {
        if (port < 0) return cs.error(`illegal port number ${port} < 0`);
        if (port > 65535) return cs.error(`illegal port number ${port} > 65535`);
      }
      return genPortrangeBoth(cs, r.port1, r.port2, p, dir);
    }
    case 'gateway':
      return cs.error("'gateway' not supported in this configuration");
    case 'proto': {
      const real = lookupProto(cs, name, proto);
      if (real < 0) return cs.error(`unknown protocol: ${name}`);
      if (dir !== 'default') return cs.error("direction applied to 'proto'");
      return genProto(cs, real, proto);
    }
    case 'protochain': {
      const real = lookupProto(cs, name, proto);
      if (real < 0) return cs.error(`unknown protocol: ${name}`);
      return genProtochain(cs, real, proto);
    }
    case 'undef':
      return cs.error('syntax error in filter expression');
  }
}

/** `A.B.C.D/len` or `A.B.C.D mask M` (`gen_mcode`). */
function genMcode(cs: CodegenState, s1: string, s2: string | undefined, masklen: number, q: Qual): Block {
  const n0 = atoin(s1);
  if (!n0) return cs.error(`invalid IPv4 address '${s1}'`);
  const n = shl(n0[0], 32 - n0[1]);
  let m: number;
  if (s2 !== undefined) {
    const m0 = atoin(s2);
    if (!m0) return cs.error(`invalid IPv4 address '${s2}'`);
    m = shl(m0[0], 32 - m0[1]);
    if ((n & ~m) !== 0) return cs.error(`non-network bits set in "${s1} mask ${s2}"`);
  } else {
    if (masklen > 32) return cs.error('mask length must be <= 32');
    m = masklen === 0 ? 0 : shl(0xffffffff, 32 - masklen);
    if ((n & ~m) !== 0) return cs.error(`non-network bits set in "${s1}/${masklen}"`);
  }
  if (q.addr === 'net') return genHost(cs, n, m, q.proto, q.dir, true);
  return cs.error('Mask syntax for networks only');
}

/** An IPv6 address with optional prefix length (`gen_mcode6`). */
function genMcode6(cs: CodegenState, s1: string, masklen: number, q: Qual): Block {
  const addr = parseIpv6(s1);
  if (!addr) return cs.error(`invalid ip6 address ${s1}`);
  if (masklen > 128) return cs.error('mask length must be <= 128');
  const mask = new Uint8Array(16);
  mask.fill(0xff, 0, masklen >> 3);
  if (masklen % 8) mask[masklen >> 3] = (0xff << (8 - (masklen % 8))) & 0xff;
  for (let i = 0; i < 16; i++) {
    if (addr[i]! & ~mask[i]!) return cs.error(`non-network bits set in "${s1}/${masklen}"`);
  }
  switch (q.addr) {
    case 'default':
    case 'host':
      if (masklen !== 128) return cs.error('Mask syntax for networks only');
      return genHost6(cs, addr, mask, q.proto, q.dir, false);
    case 'net':
      return genHost6(cs, addr, mask, q.proto, q.dir, true);
    default:
      return cs.error('invalid qualifier against IPv6 address');
  }
}

/** `pcap_ether_aton`. */
function etherAton(s: string): Uint8Array {
  const out: number[] = [];
  let i = 0;
  const hex = (c: string | undefined): boolean => c !== undefined && /[0-9a-fA-F]/.test(c);
  while (i < s.length) {
    if (s[i] === ':' || s[i] === '.' || s[i] === '-') i++;
    let d = parseInt(s[i++]!, 16);
    if (hex(s[i])) d = (d << 4) | parseInt(s[i++]!, 16);
    out.push(d);
  }
  return Uint8Array.from(out.slice(0, 6));
}

/** A MAC address in id position (`gen_ecode`). */
function genEcode(cs: CodegenState, s: string, q: Qual): Block {
  if ((q.addr === 'host' || q.addr === 'default') && q.proto === 'link') {
    if (cs.linktype !== 'EN10MB')
      return cs.error('ethernet addresses supported only on ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel');
    const tmp = genPrevlinkhdrCheck(cs);
    const b = genEhostop(cs, etherAton(s), q.dir);
    if (tmp) genAnd(tmp, b);
    return b;
  }
  return cs.error('ethernet address used in non-ether expression');
}

/** Code for an id with its qualifiers. */
export function genPrimitive(cs: CodegenState, q: Qual, id: Id): Block {
  switch (id.kind) {
    case 'name':
      return genScode(cs, id.name, q);
    case 'num':
      return genNcode(cs, undefined, id.value, q);
    case 'ipv4':
      if (q.addr === 'port' || q.addr === 'portrange' || q.addr === 'proto' || q.addr === 'protochain') {
        return cs.grammarError(`'${q.addr}' modifier applied to ip host`);
      }
      return genNcode(cs, id.text, 0, q);
    case 'ipv4-prefix':
      return genMcode(cs, id.text, undefined, id.len, q);
    case 'ipv4-mask':
      return genMcode(cs, id.text, id.mask, 0, q);
    case 'ipv6':
      return genMcode6(cs, id.text, id.len, q);
    case 'mac':
      return genEcode(cs, id.text, q);
    case 'arcnet':
      return cs.error('aid supported only on ARCnet');
  }
}
