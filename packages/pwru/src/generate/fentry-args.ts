/**
 * Which arguments an fentry program may read straight from its context.
 *
 * The verifier types every context word of a tracing program from the traced function's BTF and
 * refuses a load of a word whose type it cannot describe: `invalid bpf_context access` for a
 * `const void *`, an `enum skb_drop_reason *` or a struct passed by value. Only integers, enums,
 * a bare `void *` and pointers to structs or unions are accepted by every kernel from 5.5 on.
 * `bpf_get_func_arg` (Linux 5.17+) reads any argument whatever its type.
 */
import { type Btf, funcSignature, resolveType } from 'btf-parser';

/** What the fentry backend knows about a function it traces. */
export interface FentrySignature {
  /** The `FUNC` id the program is bound to at load. */
  readonly btfId: number;
  /** How many arguments the function takes (the fexit return value follows them). */
  readonly argCount: number;
  /** Per argument (0-based): whether a context load of it passes the verifier. */
  readonly ctxReadable: readonly boolean[];
}

const CONTEXT_WORD = 8;

/**
 * Whether the verifier accepts a context load of an argument of BTF type `typeId`: an integer or
 * enum of at most 8 bytes, `void *` without qualifiers, or a pointer to a struct or union
 * (through typedefs and qualifiers). Anything else — `const void *`, pointers to integers,
 * enums or functions, structs by value — is refused by some kernel, so it is read with
 * `bpf_get_func_arg` or not at all.
 */
export function ctxReadable(btf: Btf, typeId: number): boolean {
  if (typeId === 0) return false;
  const t = btf.type(resolveType(btf, typeId));
  switch (t.kind) {
    case 'int':
      return t.size <= CONTEXT_WORD;
    case 'enum':
    case 'enum64':
      return true;
    case 'ptr': {
      if (t.type === 0) return true;
      const to = btf.type(resolveType(btf, t.type));
      return to.kind === 'struct' || to.kind === 'union';
    }
    default:
      return false;
  }
}

/** The fentry facts of function `fnId` (a `FUNC` id). */
export function fentrySignature(btf: Btf, fnId: number): FentrySignature {
  const sig = funcSignature(btf, fnId);
  return { btfId: fnId, argCount: sig.params.length, ctxReadable: sig.params.map((p) => ctxReadable(btf, p.type)) };
}
