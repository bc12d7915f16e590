import type { Span } from './errors.js';

/** Protocol qualifier (`pqual`); `link` covers ether/fddi/tr/wlan/ppp/slip. `undef` = no qualifier known. */
export type Proto =
  | 'default'
  | 'undef'
  | 'link'
  | 'ip'
  | 'arp'
  | 'rarp'
  | 'sctp'
  | 'tcp'
  | 'udp'
  | 'icmp'
  | 'igmp'
  | 'igrp'
  | 'pim'
  | 'vrrp'
  | 'carp'
  | 'atalk'
  | 'aarp'
  | 'decnet'
  | 'lat'
  | 'sca'
  | 'mopdl'
  | 'moprc'
  | 'ip6'
  | 'icmp6'
  | 'ah'
  | 'esp'
  | 'iso'
  | 'esis'
  | 'isis'
  | 'l1'
  | 'l2'
  | 'iih'
  | 'lsp'
  | 'snp'
  | 'psnp'
  | 'csnp'
  | 'clnp'
  | 'stp'
  | 'ipx'
  | 'netbeui'
  | 'radio';

/** Direction qualifier (`dqual`): `or` = `src or dst`, `and` = `src and dst`. */
export type Dir =
  | 'default'
  | 'undef'
  | 'src'
  | 'dst'
  | 'or'
  | 'and'
  | 'addr1'
  | 'addr2'
  | 'addr3'
  | 'addr4'
  | 'ra'
  | 'ta';

/** Address-type qualifier (`aqual` and friends). */
export type AddrType = 'default' | 'undef' | 'host' | 'net' | 'port' | 'portrange' | 'proto' | 'protochain' | 'gateway';

/** The qualifiers that apply to an id, after libpcap's inheritance rules. */
export interface Qual {
  proto: Proto;
  dir: Dir;
  addr: AddrType;
}

/** The qualifier of "nothing to inherit" (libpcap's `qerr`). */
export const QERR: Qual = { proto: 'undef', dir: 'undef', addr: 'undef' };

/** An address or name in id position. */
export type Id =
  | { kind: 'name'; name: string; span: Span }
  | { kind: 'num'; value: number; span: Span }
  | { kind: 'ipv4'; text: string; span: Span }
  | { kind: 'ipv4-prefix'; text: string; len: number; span: Span }
  | { kind: 'ipv4-mask'; text: string; mask: string; span: Span }
  | { kind: 'ipv6'; text: string; len: number; explicitLen: boolean; span: Span }
  | { kind: 'mac'; text: string; span: Span }
  | { kind: 'arcnet'; text: string; span: Span };

/** Arithmetic operators of `arth`. */
export type ArithOp = '+' | '-' | '*' | '/' | '%' | '&' | '|' | '^' | '<<' | '>>';

/** An arithmetic expression (`arth`). */
export type Arith =
  | { type: 'num'; value: number; span: Span }
  | { type: 'len'; span: Span }
  | { type: 'load'; proto: Proto; index: Arith; size: number; span: Span }
  | { type: 'binary'; op: ArithOp; left: Arith; right: Arith; span: Span }
  | { type: 'neg'; operand: Arith; span: Span };

/** Comparison operators; `<=`, `<`, `!=` are libpcap's negated `jgt`, `jge`, `jeq`. */
export type RelOp = '>' | '>=' | '=' | '<=' | '<' | '!=';

/** A boolean filter expression. */
export type Expr =
  | { type: 'and' | 'or'; left: Expr; right: Expr; span: Span }
  | { type: 'not'; operand: Expr; span: Span }
  | { type: 'primitive'; qual: Qual; id: Id; span: Span }
  | { type: 'abbrev'; proto: Proto; span: Span }
  | { type: 'relation'; op: RelOp; left: Arith; right: Arith; span: Span }
  | { type: 'broadcast' | 'multicast'; proto: Proto; span: Span }
  | { type: 'less' | 'greater'; value: number; span: Span }
  | { type: 'byte'; op: '&' | '|' | '<' | '>' | '='; index: number; value: number; span: Span }
  | { type: 'inbound' | 'outbound'; span: Span }
  | { type: 'ifindex'; value: number; span: Span }
  | { type: 'vlan' | 'mpls' | 'pppoes' | 'geneve'; value: number | undefined; span: Span }
  | { type: 'pppoed'; span: Span }
  | { type: 'llc'; subtype: string | undefined; span: Span }
  /** ATM, MTP, PF and 802.11 keywords with their arguments (NUM values or names). */
  | { type: 'linkSpecific'; keyword: string; args: Array<string | number>; span: Span };

/** A parsed filter: `undefined` expression = the empty filter, which accepts every packet. */
export interface FilterAst {
  expr: Expr | undefined;
}
