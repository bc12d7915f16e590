/** Protocol numbers and link-layer constants libpcap's code generator uses. */

export const ETHERMTU = 1500;

export const ETHERTYPE = {
  IP: 0x0800,
  ARP: 0x0806,
  NS: 0x0600,
  MOPDL: 0x6001,
  MOPRC: 0x6002,
  DN: 0x6003,
  LAT: 0x6004,
  SCA: 0x6007,
  TEB: 0x6558,
  REVARP: 0x8035,
  ATALK: 0x809b,
  AARP: 0x80f3,
  VLAN_8021Q: 0x8100,
  IPX: 0x8137,
  IPV6: 0x86dd,
  MPLS: 0x8847,
  PPPOED: 0x8863,
  PPPOES: 0x8864,
  VLAN_8021AD: 0x88a8,
  LOOPBACK: 0x9000,
  VLAN_QINQ: 0x9100,
} as const;

export const LLCSAP = { IP: 0x06, STP: 0x42, SNAP: 0xaa, IPX: 0xe0, NETBEUI: 0xf0, ISONS: 0xfe } as const;

export const PPP = {
  IP: 0x21,
  OSI: 0x23,
  NS: 0x25,
  DECNET: 0x27,
  APPLE: 0x29,
  IPX: 0x2b,
  VJC: 0x2d,
  BRPDU: 0x31,
  IPV6: 0x57,
  MPLS_UCAST: 0x0281,
} as const;

export const IPPROTO = {
  HOPOPTS: 0,
  ICMP: 1,
  IGMP: 2,
  TCP: 6,
  IGRP: 9,
  UDP: 17,
  ROUTING: 43,
  FRAGMENT: 44,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  NONE: 59,
  DSTOPTS: 60,
  PIM: 103,
  VRRP: 112,
  SCTP: 132,
} as const;

/** "tcp, udp or sctp" for ports whose protocol is not known. */
export const PROTO_UNDEF = -1;

export const ISO = { CLNP: 0x81, ESIS: 0x82, ISIS: 0x83 } as const;
export const ISIS_PDU = {
  L1_LAN_IIH: 15,
  L2_LAN_IIH: 16,
  PTP_IIH: 17,
  L1_LSP: 18,
  L2_LSP: 20,
  L1_CSNP: 24,
  L2_CSNP: 25,
  L1_PSNP: 26,
  L2_PSNP: 27,
} as const;

export const LLC = { S_FMT: 1, U_FMT: 3, S_CMD_MASK: 0x0f, U_CMD_MASK: 0xef } as const;
/** Supervisory LLC frame types by name. */
export const LLC_S_SUBTYPES: ReadonlyMap<string, number> = new Map([
  ['rr', 0x01],
  ['rnr', 0x05],
  ['rej', 0x09],
]);
/** Unnumbered LLC frame types by name. */
export const LLC_U_SUBTYPES: ReadonlyMap<string, number> = new Map([
  ['ui', 0x03],
  ['ua', 0x63],
  ['disc', 0x43],
  ['dm', 0x0f],
  ['sabme', 0x6f],
  ['test', 0xe3],
  ['xid', 0xaf],
  ['frmr', 0x87],
]);

export const GENEVE_PORT = 6081;
/** Linux ancillary data offsets (`SKF_AD_OFF + ...`). */
export const SKF_AD_OFF = 0xfffff000;
export const SKF_AD_PKTTYPE = 4;
export const SKF_AD_IFINDEX = 8;
export const PACKET_OUTGOING = 4;
/** libpcap's OFFSET_NOT_SET ((u_int)-1). */
export const OFFSET_NOT_SET = -1;
