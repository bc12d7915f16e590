import type { Btf } from './btf.js';
import { BtfKind } from './kinds.js';
import { MAX_RESOLVE_DEPTH } from './resolve.js';

/** How a parameter reaches `struct sk_buff`. */
export type SkbPointerForm =
  /** `struct sk_buff *` exactly: the only form pwru counts. */
  | 'direct'
  /** `const struct sk_buff *` (or another qualifier on the pointee or the pointer). */
  | 'const'
  /** Through a typedef of the pointer or the struct. */
  | 'typedef';

/** A parameter that is a pointer to `struct sk_buff`. */
export interface SkbParam {
  /** 1-based parameter position. */
  readonly position: number;
  /** Parameter name, `''` when unnamed. */
  readonly name: string;
  readonly form: SkbPointerForm;
}

/** A function (or tracepoint) with at least one `struct sk_buff` pointer parameter. */
export interface SkbFunction {
  /** FUNC id (for tracepoints: the `btf_trace_*` typedef id). */
  readonly id: number;
  /** Function name (for tracepoints: the name without `btf_trace_`). */
  readonly name: string;
  /** Every sk_buff pointer parameter, in order. */
  readonly params: readonly SkbParam[];
}

/** Options for skb-function discovery. */
export interface SkbFunctionOptions {
  /** For split BTF: also report the base's functions (default false: only this blob's own). */
  readonly includeBase?: boolean;
}

const FORM_NONE = 1;
const FORM_DIRECT = 2;
const FORM_CONST = 3;
const FORM_TYPEDEF = 4;
const FORMS: readonly (SkbPointerForm | undefined)[] = [undefined, undefined, 'direct', 'const', 'typedef'];

/** Classifies parameter types, memoised per type id. */
class SkbClassifier {
  private readonly memo: Uint8Array;
  private readonly skbIds: Set<number>;

  constructor(private readonly btf: Btf) {
    this.memo = new Uint8Array(btf.maxTypeId + 1);
    this.skbIds = new Set(btf.idsByName('sk_buff', 'struct'));
  }

  /** FORM_* of a parameter type. */
  classify(id: number): number {
    let f = this.memo[id];
    if (f === undefined) return FORM_NONE; // out of range
    if (f !== 0) return f;
    f = this.compute(id);
    this.memo[id] = f;
    return f;
  }

  private compute(id: number): number {
    const btf = this.btf;
    let typedef = false;
    let qualified = false;
    let seenPtr = false;
    for (let depth = 0; depth <= MAX_RESOLVE_DEPTH && id !== 0; depth++) {
      const k = btf.kindOf(id);
      switch (k) {
        case BtfKind.TYPEDEF:
          typedef = true;
          break;
        case BtfKind.CONST:
        case BtfKind.VOLATILE:
        case BtfKind.RESTRICT:
          qualified = true;
          break;
        case BtfKind.TYPE_TAG:
          break;
        case BtfKind.PTR:
          if (seenPtr) return FORM_NONE; // struct sk_buff ** is not an skb parameter
          seenPtr = true;
          break;
        case BtfKind.STRUCT:
          if (!seenPtr || !this.skbIds.has(id)) return FORM_NONE;
          return typedef ? FORM_TYPEDEF : qualified ? FORM_CONST : FORM_DIRECT;
        default:
          return FORM_NONE;
      }
      id = btf.sizeOrTypeOf(id);
    }
    return FORM_NONE;
  }
}

function skbParams(btf: Btf, cls: SkbClassifier, protoId: number, skipFirst: boolean): SkbParam[] | undefined {
  if (protoId === 0 || protoId > btf.maxTypeId) return undefined;
  const o = protoId >= btf.firstTypeId ? btf : btf.owner(protoId);
  const rec = o.offsets[protoId - o.firstTypeId]!;
  const u32 = o.u32;
  const info = u32 !== undefined ? u32[(rec + 4) >>> 2]! : o.word(rec + 4);
  if (((info >>> 24) & 0x1f) !== BtfKind.FUNC_PROTO) return undefined;
  const p = rec + 12;
  const vlen = info & 0xffff;
  let out: SkbParam[] | undefined;
  for (let i = skipFirst ? 1 : 0; i < vlen; i++) {
    const f = cls.classify(u32 !== undefined ? u32[(p + 8 * i + 4) >>> 2]! : o.word(p + 8 * i + 4));
    if (f === FORM_NONE) continue;
    out ??= [];
    out.push({ position: skipFirst ? i : i + 1, name: o.str(o.word(p + 8 * i)), form: FORMS[f]! });
  }
  return out;
}

/**
 * Every FUNC with a parameter that is a pointer to `struct sk_buff` (direct, `const`, or through a
 * typedef), with 1-based positions. For split BTF (a module) only the module's own functions unless
 * `includeBase`. A FUNC name can appear more than once (static functions in several files); each
 * FUNC is reported.
 */
export function skbFunctions(btf: Btf, options: SkbFunctionOptions = {}): SkbFunction[] {
  const cls = new SkbClassifier(btf);
  const out: SkbFunction[] = [];
  const scan = (blob: Btf): void => {
    if (options.includeBase && blob.base) scan(blob.base);
    const offsets = blob.offsets;
    const u32 = blob.u32;
    const first = blob.firstTypeId;
    for (let rel = 0; rel < offsets.length; rel++) {
      const rec = offsets[rel]!;
      const info = u32 !== undefined ? u32[(rec + 4) >>> 2]! : blob.word(rec + 4);
      if (((info >>> 24) & 0x1f) !== BtfKind.FUNC) continue;
      const proto = u32 !== undefined ? u32[(rec + 8) >>> 2]! : blob.word(rec + 8);
      const params = skbParams(btf, cls, proto, false);
      if (params) out.push({ id: first + rel, name: blob.str(blob.word(rec)), params });
    }
  };
  scan(btf);
  return out;
}

/**
 * pwru's view: function name → 1-based position of the first non-const `struct sk_buff *`
 * parameter among positions 1..`maxPosition` (default 5). Unlike pwru this reports the exact
 * position when a function takes several skbs. Duplicate names keep the first FUNC.
 */
export function pwruSkbFunctions(
  btf: Btf,
  options: SkbFunctionOptions & { maxPosition?: number } = {},
): Map<string, number> {
  const max = options.maxPosition ?? 5;
  const out = new Map<string, number>();
  for (const fn of skbFunctions(btf, options)) {
    if (out.has(fn.name)) continue;
    const p = fn.params.find((q) => q.form === 'direct' && q.position <= max);
    if (p) out.set(fn.name, p.position);
  }
  return out;
}

const TRACE_PREFIX = 'btf_trace_';

/**
 * Every tracepoint (`btf_trace_<name>` typedef: pointer to a FUNC_PROTO whose first parameter is
 * the `void *` context) with an `struct sk_buff` pointer argument. Positions count the tracepoint's
 * own arguments from 1, skipping the context, so position 1 is `ctx[0]` of a tp_btf program.
 */
export function skbTracepoints(
  btf: Btf,
  options: SkbFunctionOptions & {
    /** Only tracepoints whose name (without `btf_trace_`) passes: the others' arguments are never looked at. */
    readonly match?: (name: string) => boolean;
  } = {},
): SkbFunction[] {
  const cls = new SkbClassifier(btf);
  const out: SkbFunction[] = [];
  // The name index holds every btf_trace_ name in one chain: no walk over all the types.
  const ids = btf.idsWithPrefix(TRACE_PREFIX, 'typedef');
  const own = options.includeBase ? ids : ids.filter((id) => id >= btf.firstTypeId);
  for (const id of own) {
    const name = btf.nameOf(id).slice(TRACE_PREFIX.length);
    if (options.match && !options.match(name)) continue;
    const ptr = btf.sizeOrTypeOf(id);
    if (ptr === 0 || ptr > btf.maxTypeId || btf.kindOf(ptr) !== BtfKind.PTR) continue;
    const params = skbParams(btf, cls, btf.sizeOrTypeOf(ptr), true);
    if (params) out.push({ id, name, params });
  }
  return out;
}
