/**
 * The `--output-netfilter` section of an event: a fixed layout the entry program fills from the
 * arguments of `ipt_do_table`, `ip6t_do_table` or `nft_do_chain`, and the return program
 * completes with the verdict the table or chain returned.
 */

/** Byte offsets inside the netfilter section (88 bytes). */
export const NF = {
  /** The function's return value: `NF_DROP`, `NF_ACCEPT`... with a queue number or errno above bit 16. */
  verdict: 0,
  /** {@link NfEngine}. */
  engine: 4,
  /** `nf_hook_state.pf` (`NFPROTO_*`). */
  pf: 5,
  /** `nf_hook_state.hook`. */
  hook: 6,
  /** {@link NfFlags}. */
  flags: 7,
  /** The table's name, NUL-padded (`xt_table.name`, or `nft_table.name` truncated). */
  table: 8,
  /** nftables: the base chain's name (`nft_chain.name`, truncated), NUL-padded. */
  chain: 40,
  nameSize: 32,
  /**
   * The entry's `bpf_ktime_get_ns()` (u64), kept by the return program when it stamps the event
   * with its own time: what the entry's other records (the `--output-pcapng` packet copy) carry.
   */
  entryTs: 72,
  /** The entry's CPU (u32). */
  entryCpu: 80,
  size: 88,
} as const;

/** Which table walker the event comes from. */
export const NfEngine = { iptables: 1, ip6tables: 2, nftables: 3 } as const;
/** The engines by section value. */
export type NfEngineName = keyof typeof NfEngine;

/** Bits of the section's `flags` byte. */
export const NfFlags = {
  /** The section was filled (the event is a netfilter function's). */
  present: 1,
  /** The return program stored the verdict. */
  returned: 2,
} as const;

/** A decoded netfilter section. */
export interface EventNetfilter {
  readonly engine: NfEngineName;
  /** `NFPROTO_*` value (2 = IPv4, 10 = IPv6). */
  readonly pf: number;
  /** `nf_hook_state.hook`: for IPv4/IPv6, `enum nf_inet_hooks`. */
  readonly hook: number;
  readonly table: string;
  /** nftables only: the base chain the hook ran. */
  readonly chain?: string;
  /** The raw verdict; absent when the return was not seen. */
  readonly verdict?: number;
  /**
   * The walker's entry (the event's time and CPU are its return's): the stamp the records the
   * entry program wrote beside the event carry (the `--output-pcapng` packet copy). Absent when
   * the return was not seen.
   */
  readonly entry?: { readonly ts: number; readonly cpu: number };
}

function cString(view: DataView, off: number, size: number): string {
  let s = '';
  for (let i = 0; i < size; i++) {
    const c = view.getUint8(off + i);
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

const ENGINES: Record<number, NfEngineName> = { 1: 'iptables', 2: 'ip6tables', 3: 'nftables' };

/** Decodes the section at `off`; undefined when the event is not a netfilter function's. */
export function netfilterAt(view: DataView, off: number): EventNetfilter | undefined {
  const flags = view.getUint8(off + NF.flags);
  const engine = ENGINES[view.getUint8(off + NF.engine)];
  if ((flags & NfFlags.present) === 0 || !engine) return undefined;
  const entryTs = view.getUint32(off + NF.entryTs + 4, true) * 4294967296 + view.getUint32(off + NF.entryTs, true);
  return {
    engine,
    pf: view.getUint8(off + NF.pf),
    hook: view.getUint8(off + NF.hook),
    table: cString(view, off + NF.table, NF.nameSize),
    ...(engine === 'nftables' ? { chain: cString(view, off + NF.chain, NF.nameSize) } : {}),
    ...((flags & NfFlags.returned) !== 0 ? { verdict: view.getUint32(off + NF.verdict, true) } : {}),
    ...((flags & NfFlags.returned) !== 0 && entryTs !== 0
      ? { entry: { ts: entryTs, cpu: view.getUint32(off + NF.entryCpu, true) } }
      : {}),
  };
}
