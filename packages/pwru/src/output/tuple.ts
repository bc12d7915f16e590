import type { EventTuple } from '../event.js';

const TCP_FLAG_NAMES = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'] as const;

/** IANA protocol number → upstream's short name (`tcp`, `udp`, `icmp`, `icmp6`), else empty. */
export function protoName(l4: number): string {
  switch (l4) {
    case 6:
      return 'tcp';
    case 17:
      return 'udp';
    case 1:
      return 'icmp';
    case 58:
      return 'icmp6';
    default:
      return '';
  }
}

/** TCP flags byte → `SYN|ACK` (upstream's bit order: FIN SYN RST PSH ACK URG ECE CWR). */
export function tcpFlagsString(flags: number): string {
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (flags & (1 << i)) out += (out ? '|' : '') + TCP_FLAG_NAMES[i];
  }
  return out;
}

/** An address as the tuple shows it: IPv6 in brackets, empty for non-IP. */
export function tupleAddr(t: EventTuple, addr: string): string {
  return t.l3 === 0x86dd ? `[${addr}]` : addr;
}

/** Upstream's tuple text: `saddr:sport->daddr:dport(proto[:FLAGS])`. */
export function formatTuple(t: EventTuple, withTcpFlags: boolean): string {
  let l4 = protoName(t.l4);
  if (withTcpFlags && t.l4 === 6 && t.flags !== 0) l4 += ':' + tcpFlagsString(t.flags);
  return `${tupleAddr(t, t.saddr)}:${t.sport}->${tupleAddr(t, t.daddr)}:${t.dport}(${l4})`;
}
