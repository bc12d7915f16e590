import { type Btf, memberPath, resolveType } from 'btf-parser';
import { PwruError } from '../errors.js';
import { NfEngine } from './section.js';

/** Where a pointer comes from: argument `arg` (0-based), then `*(ptr + member)` when set. */
export interface NfPointer {
  readonly arg: number;
  readonly member?: number;
}

/** One table walker pwru probes, and where its arguments lead (offsets from its BTF). */
export interface NfFunc {
  readonly name: string;
  /** The module declaring it (`ip_tables`, `nf_tables`), undefined when built in. */
  readonly module?: string;
  /** {@link NfEngine} value. */
  readonly engine: number;
  readonly skb: NfPointer;
  /** The `struct nf_hook_state *`. */
  readonly state: NfPointer;
  /** x_tables: the `struct xt_table *` and its inline `name`. */
  readonly xtTable?: { readonly arg: number; readonly name: number };
  /** nftables: the `struct nft_chain *` (argument `priv`), its `name`, `table` and the table's `name`. */
  readonly nftChain?: {
    readonly arg: number;
    readonly name: number;
    readonly table: number;
    readonly tableName: number;
  };
}

/** What `--output-netfilter` reads, from the kernel's and its modules' BTF. */
export interface NetfilterFields {
  readonly funcs: readonly NfFunc[];
  /** `nf_hook_state.hook` and `.pf`: offset and size (the hook is an `unsigned int` before 5.15). */
  readonly hook: { readonly offset: number; readonly size: number };
  readonly pf: { readonly offset: number; readonly size: number };
  /** Walkers this kernel lacks, one sentence each, to say once at start-up. */
  readonly missing: readonly string[];
}

/** A BTF to look a walker up in: vmlinux (built in) or a module's split BTF. */
export interface NfBtfSource {
  readonly module?: string;
  readonly btf: Btf;
}

const WALKERS = [
  { name: 'ipt_do_table', module: 'ip_tables', engine: NfEngine.iptables },
  { name: 'ip6t_do_table', module: 'ip6_tables', engine: NfEngine.ip6tables },
  { name: 'nft_do_chain', module: 'nf_tables', engine: NfEngine.nftables },
] as const;

/** The modules whose BTF {@link netfilterFieldsFromBtf} looks into. */
export const NETFILTER_MODULES: readonly string[] = WALKERS.map((w) => w.module);

/** The struct a parameter's type points at, or undefined. */
function pointee(btf: Btf, type: number): string | undefined {
  const t = btf.type(resolveType(btf, type));
  if (t.kind !== 'ptr') return undefined;
  const s = btf.type(resolveType(btf, t.type));
  return s.kind === 'struct' ? s.name : undefined;
}

function offset(btf: Btf, struct: string, paths: readonly string[]): { offset: number; size: number } | undefined {
  const root = btf.findType(struct, 'struct');
  if (!root) return undefined;
  for (const p of paths) {
    try {
      const m = memberPath(btf, root, p);
      if (m.loads.length === 1) return { offset: m.loads[0]!.offset, size: m.size };
    } catch {
      // the next spelling
    }
  }
  return undefined;
}

function walker(w: (typeof WALKERS)[number], src: NfBtfSource): NfFunc | string {
  const { btf } = src;
  const fn = btf.findType(w.name, 'func');
  if (!fn || fn.kind !== 'func')
    return `${w.name} is not in the kernel's BTF (module ${w.module} not loaded): no ${w.engine === NfEngine.nftables ? 'nftables' : 'x_tables'} events`;
  const proto = btf.type(fn.type);
  if (proto.kind !== 'func_proto') return `${w.name} has no prototype in BTF`;
  const params = proto.params.map((p) => ({ name: p.name, struct: pointee(btf, p.type) }));
  const arg = (struct: string): number => params.findIndex((p) => p.struct === struct);
  const priv = params.findIndex((p) => p.name === 'priv');
  const base = { name: w.name, ...(src.module ? { module: src.module } : {}), engine: w.engine };
  if (w.engine !== NfEngine.nftables) {
    const skb = arg('sk_buff');
    const state = arg('nf_hook_state');
    const table = arg('xt_table') >= 0 ? arg('xt_table') : priv;
    const name = offset(btf, 'xt_table', ['name']);
    if (skb < 0 || state < 0 || table < 0 || !name)
      return `${w.name}: unexpected prototype or struct xt_table in BTF (skb ${skb}, state ${state}, table ${table})`;
    return { ...base, skb: { arg: skb }, state: { arg: state }, xtTable: { arg: table, name: name.offset } };
  }
  const pkt = arg('nft_pktinfo');
  const skb = offset(btf, 'nft_pktinfo', ['skb']);
  // 5.10 keeps the hook state in pkt->xt.state, later kernels in pkt->state.
  const state = offset(btf, 'nft_pktinfo', ['state', 'xt.state']);
  const chainName = offset(btf, 'nft_chain', ['name']);
  const chainTable = offset(btf, 'nft_chain', ['table']);
  const tableName = offset(btf, 'nft_table', ['name']);
  if (pkt < 0 || priv < 0 || !skb || !state || !chainName || !chainTable || !tableName)
    return `${w.name}: unexpected prototype or struct nft_pktinfo/nft_chain/nft_table in BTF`;
  return {
    ...base,
    skb: { arg: pkt, member: skb.offset },
    state: { arg: pkt, member: state.offset },
    nftChain: { arg: priv, name: chainName.offset, table: chainTable.offset, tableName: tableName.offset },
  };
}

/**
 * A module loaded on a kernel without module BTF (before 5.11): `ipt_do_table` and
 * `ip6t_do_table` then have their pre-5.16 prototype `(skb, state, table)`, and `struct
 * xt_table` is in vmlinux's BTF; `nft_do_chain`'s structs are not, so nftables is left out.
 */
export const LOADED_WITHOUT_BTF = 'loaded-without-btf';

function withoutBtf(w: (typeof WALKERS)[number], vmlinux: Btf): NfFunc | string {
  const name = w.engine !== NfEngine.nftables ? offset(vmlinux, 'xt_table', ['name']) : undefined;
  if (!name)
    return `${w.module} is loaded but this kernel has no module BTF (5.11+) to read ${w.name}'s structs: no ${w.engine === NfEngine.nftables ? 'nftables' : 'x_tables'} events`;
  return {
    name: w.name,
    module: w.module,
    engine: w.engine,
    skb: { arg: 0 },
    state: { arg: 1 },
    xtTable: { arg: 2, name: name.offset },
  };
}

/**
 * Finds the table walkers (`ipt_do_table`, `ip6t_do_table`, `nft_do_chain`) in vmlinux or their
 * modules' BTF, and every offset the programs need. `modules` gives a module's BTF, or
 * {@link LOADED_WITHOUT_BTF} for a module loaded on a kernel without module BTF. Walkers this
 * kernel lacks (module not loaded) are listed in `missing`; with none at all there is nothing to
 * trace, which is an error.
 */
export function netfilterFieldsFromBtf(
  vmlinux: Btf,
  modules: (name: string) => Btf | typeof LOADED_WITHOUT_BTF | undefined,
): NetfilterFields {
  const hook = offset(vmlinux, 'nf_hook_state', ['hook']);
  const pf = offset(vmlinux, 'nf_hook_state', ['pf']);
  if (!hook || !pf)
    throw new PwruError(
      '--output-netfilter: kernel BTF has no struct nf_hook_state with hook and pf (a kernel without netfilter)',
    );
  const funcs: NfFunc[] = [];
  const missing: string[] = [];
  for (const w of WALKERS) {
    const builtin = vmlinux.findType(w.name, 'func');
    const mod = builtin ? undefined : modules(w.module);
    const r =
      mod === LOADED_WITHOUT_BTF
        ? withoutBtf(w, vmlinux)
        : walker(w, builtin ? { btf: vmlinux } : mod ? { module: w.module, btf: mod } : { btf: vmlinux });
    if (typeof r === 'string') missing.push(r);
    else funcs.push(r);
  }
  if (funcs.length === 0) {
    throw new PwruError(
      '--output-netfilter: none of ipt_do_table, ip6t_do_table, nft_do_chain is in the kernel (load ip_tables or nf_tables, e.g. by listing the rules, before starting pwru)',
    );
  }
  return { funcs, hook, pf, missing };
}
