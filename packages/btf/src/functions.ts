import type { Btf } from './btf.js';
import { BtfNotFoundError } from './errors.js';
import type { FuncLinkage, FuncType } from './types.js';

/** One parameter of a function signature. */
export interface SignatureParam {
  /** 1-based position. */
  readonly position: number;
  /** Parameter name, `''` when unnamed. */
  readonly name: string;
  /** Parameter type id. */
  readonly type: number;
}

/** A function's prototype in one object: name, linkage, return type and parameters. */
export interface FunctionSignature {
  /** FUNC type id. */
  readonly id: number;
  readonly name: string;
  readonly linkage: FuncLinkage;
  /** FUNC_PROTO type id. */
  readonly protoId: number;
  /** Return type id (0 = void). */
  readonly returnType: number;
  readonly params: readonly SignatureParam[];
  readonly variadic: boolean;
}

/**
 * The prototype of a kernel function: `funcSignature(btf, 'kfree_skb_reason')`. Accepts a name
 * (first FUNC with that name), a FUNC id or a decoded FUNC.
 */
export function funcSignature(btf: Btf, fn: string | number | FuncType): FunctionSignature {
  const f =
    typeof fn === 'string' ? btf.typeByName(fn, 'func') : typeof fn === 'number' ? btf.typeOfKind(fn, 'func') : fn;
  const proto = btf.type(f.type);
  if (proto.kind !== 'func_proto') {
    throw new BtfNotFoundError(`function '${f.name}' (id ${f.id}) points at a ${proto.kind}, not a func_proto`);
  }
  return {
    id: f.id,
    name: f.name,
    linkage: f.linkage,
    protoId: proto.id,
    returnType: proto.returnType,
    params: proto.params.map((p, i) => ({ position: i + 1, name: p.name, type: p.type })),
    variadic: proto.variadic,
  };
}
