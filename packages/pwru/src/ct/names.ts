import type { Btf } from 'btf-parser';
import { hex64 } from '../output/columns.js';
import type { CtTuple, EventCt } from './section.js';

/** Names of conntrack values, from the kernel's BTF enums. */
export interface CtNames {
  /** `enum ip_conntrack_info` value → name without `IP_CT_` (`ESTABLISHED_REPLY`). */
  readonly info: ReadonlyMap<number, string>;
  /** One-bit `enum ip_conntrack_status` values, lowest first, names without `IPS_`. */
  readonly status: ReadonlyArray<readonly [number, string]>;
}

/**
 * Reads the names from `enum ip_conntrack_info` and `enum ip_conntrack_status`; a kernel
 * without them gets numbers.
 */
export function ctNames(btf: Btf): CtNames {
  const info = new Map<number, string>();
  const infoEnum = btf.findType('ip_conntrack_info', 'enum');
  if (infoEnum?.kind === 'enum') {
    for (const v of infoEnum.values) {
      // IP_CT_IS_REPLY aliases ESTABLISHED_REPLY; IP_CT_NUMBER is a count.
      if (v.name === 'IP_CT_IS_REPLY' || v.name === 'IP_CT_NUMBER' || info.has(v.value)) continue;
      info.set(v.value, v.name.replace(/^IP_CT_/, ''));
    }
  }
  const status: Array<[number, string]> = [];
  const statusEnum = btf.findType('ip_conntrack_status', 'enum');
  if (statusEnum?.kind === 'enum') {
    for (const v of statusEnum.values) {
      const x = v.value >>> 0;
      if (x === 0 || (x & (x - 1)) !== 0 || /_BIT$|_MASK$|^__/.test(v.name)) continue;
      if (!status.some(([b]) => b === x)) status.push([x, v.name.replace(/^IPS_/, '')]);
    }
    status.sort((a, b) => a[0] - b[0]);
  }
  return { info, status };
}

/** The ctinfo name (`NEW`, `ESTABLISHED_REPLY`, `UNTRACKED`), or its number. */
export function ctStateName(ct: EventCt, names: CtNames | undefined): string {
  return names?.info.get(ct.info) ?? String(ct.info);
}

/** The status bits by name; unnamed bits as hex. */
export function ctStatusNames(status: number, names: CtNames | undefined): string[] {
  const out: string[] = [];
  let rest = status >>> 0;
  for (const [bit, name] of names?.status ?? []) {
    if ((rest & bit) !== 0) {
      out.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest !== 0) out.push(`0x${rest.toString(16)}`);
  return out;
}

const PROTOS: Record<number, string> = {
  1: 'icmp',
  6: 'tcp',
  17: 'udp',
  58: 'icmpv6',
  132: 'sctp',
  136: 'udplite',
  33: 'dccp',
  47: 'gre',
};

/** One tuple as text: `10.0.0.1:40000->10.0.0.2:80/tcp`, ICMP as `10.0.0.1->10.0.0.2/icmp(type=8,code=0,id=7)`. */
export function ctTupleText(t: CtTuple): string {
  const proto = PROTOS[t.proto] ?? String(t.proto);
  const host = (a: string): string => (t.family === 6 ? `[${a}]` : a);
  if (t.proto === 1 || t.proto === 58)
    return `${t.saddr}->${t.daddr}/${proto}(type=${t.dport >> 8},code=${t.dport & 0xff},id=${t.sport})`;
  if (t.sport === 0 && t.dport === 0) return `${t.saddr}->${t.daddr}/${proto}`;
  return `${host(t.saddr)}:${t.sport}->${host(t.daddr)}:${t.dport}/${proto}`;
}

/** The text appended after FUNC: `ct=0xffff...:ESTABLISHED [SEEN_REPLY|ASSURED|CONFIRMED] mark=0 zone=0 orig=... reply=...`. */
export function ctText(ct: EventCt, names: CtNames | undefined): string {
  const state = ctStateName(ct, names);
  if (!ct.orig) return `ct=${state}`;
  let s = `ct=${hex64(ct.addr.hi, ct.addr.lo)}:${state} [${ctStatusNames(ct.status, names).join('|')}]`;
  if (ct.mark !== undefined) s += ` mark=0x${ct.mark.toString(16)}`;
  if (ct.zone !== undefined) s += ` zone=${ct.zone}`;
  return `${s} orig=${ctTupleText(ct.orig)} reply=${ctTupleText(ct.reply!)}`;
}

/** A tuple in `--output-json`. */
export interface JsonCtTuple {
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  proto: number;
}

/** The `ct` object of `--output-json` (and of `trace()` events). */
export interface JsonCt {
  /** The `struct nf_conn` address, `0x...`; `0x0` for untracked packets. */
  addr: string;
  /** `enum ip_conntrack_info` name: NEW, ESTABLISHED, RELATED, their `_REPLY` forms, UNTRACKED. */
  state: string;
  /** `enum ip_conntrack_status` bit names. */
  status: string[];
  status_value: number;
  mark?: number;
  zone?: number;
  orig?: JsonCtTuple;
  reply?: JsonCtTuple;
}

const jsonTuple = (t: CtTuple): JsonCtTuple => ({
  saddr: t.saddr,
  daddr: t.daddr,
  sport: t.sport,
  dport: t.dport,
  proto: t.proto,
});

/** The `ct` object for an event. */
export function ctJson(ct: EventCt, names: CtNames | undefined): JsonCt {
  return {
    addr: hex64(ct.addr.hi, ct.addr.lo),
    state: ctStateName(ct, names),
    status: ctStatusNames(ct.status, names),
    status_value: ct.status,
    ...(ct.mark !== undefined ? { mark: ct.mark } : {}),
    ...(ct.zone !== undefined ? { zone: ct.zone } : {}),
    ...(ct.orig ? { orig: jsonTuple(ct.orig), reply: jsonTuple(ct.reply!) } : {}),
  };
}
