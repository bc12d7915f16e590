import type { Btf } from './btf.js';
import { BtfNotFoundError } from './errors.js';

/** One argument of a tracepoint, as a tp_btf or raw_tp program sees it. */
export interface TracepointParam {
  /** 1-based position among the tracepoint's own arguments (the `void *` context skipped). */
  readonly position: number;
  /** Index into the program's context: the argument is the u64 at byte `8 * ctxIndex`. */
  readonly ctxIndex: number;
  /**
   * The argument's name in the kernel's `TP_PROTO`, taken from the `__probestub_<name>` or
   * `__bpf_trace_<name>` function; `''` when this BTF has neither (see {@link TracepointSignature.namesFrom}).
   */
  readonly name: string;
  /** Type id of the argument. */
  readonly type: number;
}

/** A tracepoint's prototype: what `btf_trace_<name>` points at, with the argument names filled in. */
export interface TracepointSignature {
  /** Tracepoint name without the prefix (`kfree_skb`). */
  readonly name: string;
  /** Id of the `btf_trace_<name>` typedef (the tp_btf attach target). */
  readonly typedefId: number;
  /** Id of the FUNC_PROTO the typedef's pointer points at (parameters unnamed in BTF). */
  readonly protoId: number;
  /** The arguments after the `void *` context, in order. */
  readonly params: readonly TracepointParam[];
  /** Which function the names came from, or undefined when no names were found. */
  readonly namesFrom: string | undefined;
  /** The argument called `name`; a BtfNotFoundError listing the names otherwise. */
  param(name: string): TracepointParam;
}

const PREFIX = 'btf_trace_';

/**
 * The arguments of tracepoint `name` (`'kfree_skb'` or `'btf_trace_kfree_skb'`) with their names.
 * In BTF the `btf_trace_*` typedef points at a pointer to an unnamed FUNC_PROTO whose first
 * parameter is the tracepoint's `void *` context; this follows typedef → pointer → prototype,
 * drops the context and takes the names from the kernel's `__probestub_<name>` (Linux 6.4+) or
 * `__bpf_trace_<name>` function, which have the same parameters with names.
 *
 * @example
 *   const kfree = tracepointSignature(vmlinux, 'kfree_skb');
 *   kfree.param('reason'); // { position: 3, ctxIndex: 2, name: 'reason', type: <enum skb_drop_reason> }
 */
export function tracepointSignature(btf: Btf, name: string): TracepointSignature {
  const short = name.startsWith(PREFIX) ? name.slice(PREFIX.length) : name;
  const typedef = btf.findType(PREFIX + short, 'typedef');
  if (!typedef)
    throw new BtfNotFoundError(
      `no tracepoint '${short}' (no typedef ${PREFIX}${short}); list them with btf-dump | grep ${PREFIX}`,
    );
  const ptr = btf.type(typedef.type);
  const proto = ptr.kind === 'ptr' ? btf.type(ptr.type) : ptr;
  if (proto.kind !== 'func_proto') {
    throw new BtfNotFoundError(`typedef ${PREFIX}${short} (id ${typedef.id}) does not point at a function prototype`);
  }
  const args = proto.params.slice(1);
  let names: string[] | undefined;
  let namesFrom: string | undefined;
  for (const candidate of [`__probestub_${short}`, `__bpf_trace_${short}`]) {
    const fn = btf.findType(candidate, 'func');
    if (!fn) continue;
    const fp = btf.type(fn.type);
    if (fp.kind !== 'func_proto' || fp.params.length !== proto.params.length) continue;
    names = fp.params.slice(1).map((p) => p.name);
    namesFrom = candidate;
    break;
  }
  const params = args.map((p, i) => ({ position: i + 1, ctxIndex: i, name: names?.[i] ?? p.name, type: p.type }));
  return {
    name: short,
    typedefId: typedef.id,
    protoId: proto.id,
    params,
    namesFrom,
    param(wanted: string): TracepointParam {
      const p = params.find((q) => q.name === wanted);
      if (p) return p;
      const known = params.map((q) => q.name || `(unnamed #${q.position})`).join(', ');
      throw new BtfNotFoundError(`tracepoint ${short} has no argument '${wanted}'; its arguments are ${known}`);
    },
  };
}
