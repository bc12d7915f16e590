import { type Btf, resolveType, skbTracepoints } from 'btf-parser';

/** A raw tracepoint carrying an skb, for the `tracepoint` (tp_btf) backend. */
export interface SkbTracepoint {
  /** Tracepoint name (`kfree_skb`). */
  readonly name: string;
  /** Id of the `btf_trace_<name>` typedef: the attach target of a tp_btf program. */
  readonly btfId: number;
  /** 0-based index into the tp_btf context of the first `struct sk_buff *` argument. */
  readonly skbArg: number;
  /** 0-based context index of an `enum skb_drop_reason` argument, if the tracepoint has one. */
  readonly reasonArg?: number;
}

/** Every `btf_trace_*` tracepoint with an skb argument (30 on a 6.18 kernel). */
export function discoverSkbTracepoints(btf: Btf, match: (name: string) => boolean): SkbTracepoint[] {
  const out: SkbTracepoint[] = [];
  for (const tp of skbTracepoints(btf, { match })) {
    if (tp.params.length === 0) continue;
    const skbArg = tp.params[0]!.position - 1;
    let reasonArg: number | undefined;
    // typedef -> pointer -> func_proto(void *__data, args...)
    const ptr = btf.type(resolveType(btf, tp.id));
    if (ptr.kind === 'ptr') {
      const proto = btf.type(ptr.type);
      if (proto.kind === 'func_proto') {
        proto.params.forEach((p, i) => {
          if (i === 0) return;
          const t = btf.type(resolveType(btf, p.type));
          if (t.kind === 'enum' && t.name === 'skb_drop_reason') reasonArg = i - 1;
        });
      }
    }
    out.push({ name: tp.name, btfId: tp.id, skbArg, ...(reasonArg !== undefined ? { reasonArg } : {}) });
  }
  return out;
}
