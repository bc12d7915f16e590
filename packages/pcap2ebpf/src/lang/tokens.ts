import type { Span } from './errors.js';

/**
 * Token types of the pcap-filter language. Keywords use libpcap's grammar token names; one-character
 * operators are themselves.
 */
export type TokenType =
  | 'NUM' | 'ID' | 'HID' | 'HID6' | 'EID' | 'AID' | 'EOF'
  /** Where the scanner failed: matches no grammar rule. */
  | 'LEXERR'
  | 'DST' | 'SRC' | 'LINK' | 'ARP' | 'RARP' | 'IP' | 'SCTP' | 'TCP' | 'UDP' | 'ICMP' | 'IGMP' | 'IGRP'
  | 'PIM' | 'VRRP' | 'CARP' | 'RADIO' | 'IPV6' | 'ICMPV6' | 'AH' | 'ESP' | 'ATALK' | 'AARP' | 'DECNET'
  | 'LAT' | 'SCA' | 'MOPRC' | 'MOPDL' | 'ISO' | 'ESIS' | 'ISIS' | 'L1' | 'L2' | 'IIH' | 'LSP' | 'SNP'
  | 'CSNP' | 'PSNP' | 'CLNP' | 'STP' | 'IPX' | 'NETBEUI' | 'HOST' | 'NET' | 'NETMASK' | 'PORT'
  | 'PORTRANGE' | 'PROTO' | 'PROTOCHAIN' | 'GATEWAY' | 'TYPE' | 'SUBTYPE' | 'DIR' | 'ADDR1' | 'ADDR2'
  | 'ADDR3' | 'ADDR4' | 'RA' | 'TA' | 'LESS' | 'GREATER' | 'CBYTE' | 'TK_BROADCAST' | 'TK_MULTICAST'
  | 'AND' | 'OR' | '!' | 'LEN' | 'INBOUND' | 'OUTBOUND' | 'IFINDEX' | 'VLAN' | 'MPLS' | 'PPPOED'
  | 'PPPOES' | 'GENEVE' | 'LANE' | 'LLC' | 'METAC' | 'BCC' | 'OAM' | 'OAMF4' | 'OAMF4EC' | 'OAMF4SC'
  | 'SC' | 'ILMIC' | 'VPI' | 'VCI' | 'CONNECTMSG' | 'METACONNECT' | 'PF_IFNAME' | 'PF_RSET' | 'PF_RNR'
  | 'PF_SRNR' | 'PF_REASON' | 'PF_ACTION' | 'FISU' | 'LSSU' | 'MSU' | 'HFISU' | 'HLSSU' | 'HMSU' | 'SIO'
  | 'OPC' | 'DPC' | 'SLS' | 'HSIO' | 'HOPC' | 'HDPC' | 'HSLS'
  | '+' | '-' | '*' | '/' | '%' | ':' | '[' | ']' | '<' | '>' | '(' | ')' | '&' | '|' | '^' | '='
  | 'GEQ' | 'LEQ' | 'NEQ' | 'LSH' | 'RSH';

/** One token of a filter expression. */
export interface Token {
  type: TokenType;
  /** The text as written. */
  text: string;
  /** NUM: the value (unsigned 32-bit). */
  num: number;
  /** ID (backslash removed), HID, HID6, EID, AID: the string value. */
  str: string;
  span: Span;
}

/** Keywords (lower case only, as in libpcap's scanner) and the token each returns. */
export const KEYWORDS: ReadonlyMap<string, TokenType> = new Map<string, TokenType>([
  ['dst', 'DST'], ['src', 'SRC'],
  ['link', 'LINK'], ['ether', 'LINK'], ['ppp', 'LINK'], ['slip', 'LINK'], ['fddi', 'LINK'], ['tr', 'LINK'], ['wlan', 'LINK'],
  ['arp', 'ARP'], ['rarp', 'RARP'], ['ip', 'IP'], ['sctp', 'SCTP'], ['tcp', 'TCP'], ['udp', 'UDP'], ['icmp', 'ICMP'],
  ['igmp', 'IGMP'], ['igrp', 'IGRP'], ['pim', 'PIM'], ['vrrp', 'VRRP'], ['carp', 'CARP'], ['radio', 'RADIO'],
  ['ip6', 'IPV6'], ['icmp6', 'ICMPV6'], ['ah', 'AH'], ['esp', 'ESP'],
  ['atalk', 'ATALK'], ['aarp', 'AARP'], ['decnet', 'DECNET'], ['lat', 'LAT'], ['sca', 'SCA'], ['moprc', 'MOPRC'], ['mopdl', 'MOPDL'],
  ['iso', 'ISO'], ['esis', 'ESIS'], ['es-is', 'ESIS'], ['isis', 'ISIS'], ['is-is', 'ISIS'], ['l1', 'L1'], ['l2', 'L2'],
  ['iih', 'IIH'], ['lsp', 'LSP'], ['snp', 'SNP'], ['csnp', 'CSNP'], ['psnp', 'PSNP'], ['clnp', 'CLNP'],
  ['stp', 'STP'], ['ipx', 'IPX'], ['netbeui', 'NETBEUI'],
  ['host', 'HOST'], ['net', 'NET'], ['mask', 'NETMASK'], ['port', 'PORT'], ['portrange', 'PORTRANGE'], ['proto', 'PROTO'],
  ['protochain', 'PROTOCHAIN'], ['gateway', 'GATEWAY'],
  ['type', 'TYPE'], ['subtype', 'SUBTYPE'], ['direction', 'DIR'], ['dir', 'DIR'],
  ['address1', 'ADDR1'], ['addr1', 'ADDR1'], ['address2', 'ADDR2'], ['addr2', 'ADDR2'],
  ['address3', 'ADDR3'], ['addr3', 'ADDR3'], ['address4', 'ADDR4'], ['addr4', 'ADDR4'], ['ra', 'RA'], ['ta', 'TA'],
  ['less', 'LESS'], ['greater', 'GREATER'], ['byte', 'CBYTE'], ['broadcast', 'TK_BROADCAST'], ['multicast', 'TK_MULTICAST'],
  ['and', 'AND'], ['&&', 'AND'], ['or', 'OR'], ['||', 'OR'], ['not', '!'],
  ['len', 'LEN'], ['length', 'LEN'], ['inbound', 'INBOUND'], ['outbound', 'OUTBOUND'], ['ifindex', 'IFINDEX'],
  ['vlan', 'VLAN'], ['mpls', 'MPLS'], ['pppoed', 'PPPOED'], ['pppoes', 'PPPOES'], ['geneve', 'GENEVE'],
  ['lane', 'LANE'], ['llc', 'LLC'], ['metac', 'METAC'], ['bcc', 'BCC'], ['oam', 'OAM'], ['oamf4', 'OAMF4'],
  ['oamf4ec', 'OAMF4EC'], ['oamf4sc', 'OAMF4SC'], ['sc', 'SC'], ['ilmic', 'ILMIC'], ['vpi', 'VPI'], ['vci', 'VCI'],
  ['connectmsg', 'CONNECTMSG'], ['metaconnect', 'METACONNECT'],
  ['on', 'PF_IFNAME'], ['ifname', 'PF_IFNAME'], ['rset', 'PF_RSET'], ['ruleset', 'PF_RSET'], ['rnr', 'PF_RNR'],
  ['rulenum', 'PF_RNR'], ['srnr', 'PF_SRNR'], ['subrulenum', 'PF_SRNR'], ['reason', 'PF_REASON'], ['action', 'PF_ACTION'],
  ['fisu', 'FISU'], ['lssu', 'LSSU'], ['lsu', 'LSSU'], ['msu', 'MSU'], ['hfisu', 'HFISU'], ['hlssu', 'HLSSU'], ['hmsu', 'HMSU'],
  ['sio', 'SIO'], ['opc', 'OPC'], ['dpc', 'DPC'], ['sls', 'SLS'], ['hsio', 'HSIO'], ['hopc', 'HOPC'], ['hdpc', 'HDPC'], ['hsls', 'HSLS'],
]);

/** Named constants that lex as numbers (`tcp-syn`, `icmp-echo`, `tcpflags`, ...). */
export const NAMED_NUMBERS: ReadonlyMap<string, number> = new Map<string, number>([
  ['icmptype', 0], ['icmpcode', 1],
  ['icmp-echoreply', 0], ['icmp-unreach', 3], ['icmp-sourcequench', 4], ['icmp-redirect', 5], ['icmp-echo', 8],
  ['icmp-routeradvert', 9], ['icmp-routersolicit', 10], ['icmp-timxceed', 11], ['icmp-paramprob', 12],
  ['icmp-tstamp', 13], ['icmp-tstampreply', 14], ['icmp-ireq', 15], ['icmp-ireqreply', 16], ['icmp-maskreq', 17],
  ['icmp-maskreply', 18],
  ['icmp6type', 0], ['icmp6code', 1],
  ['icmp6-destinationunreach', 1], ['icmp6-packettoobig', 2], ['icmp6-timeexceeded', 3],
  ['icmp6-parameterproblem', 4], ['icmp6-echo', 128], ['icmp6-echoreply', 129],
  ['icmp6-multicastlistenerquery', 130], ['icmp6-multicastlistenerreportv1', 131],
  ['icmp6-multicastlistenerdone', 132], ['icmp6-routersolicit', 133], ['icmp6-routeradvert', 134],
  ['icmp6-neighborsolicit', 135], ['icmp6-neighboradvert', 136], ['icmp6-redirect', 137],
  ['icmp6-routerrenum', 138], ['icmp6-nodeinformationquery', 139], ['icmp6-nodeinformationresponse', 140],
  ['icmp6-ineighbordiscoverysolicit', 141], ['icmp6-ineighbordiscoveryadvert', 142],
  ['icmp6-multicastlistenerreportv2', 143], ['icmp6-homeagentdiscoveryrequest', 144],
  ['icmp6-homeagentdiscoveryreply', 145], ['icmp6-mobileprefixsolicit', 146], ['icmp6-mobileprefixadvert', 147],
  ['icmp6-certpathsolicit', 148], ['icmp6-certpathadvert', 149], ['icmp6-multicastrouteradvert', 151],
  ['icmp6-multicastroutersolicit', 152], ['icmp6-multicastrouterterm', 153],
  ['tcpflags', 13], ['tcp-fin', 0x01], ['tcp-syn', 0x02], ['tcp-rst', 0x04], ['tcp-push', 0x08], ['tcp-ack', 0x10],
  ['tcp-urg', 0x20], ['tcp-ece', 0x40], ['tcp-cwr', 0x80],
]);
