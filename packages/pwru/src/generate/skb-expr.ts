import { type Btf, memberPath, resolveType, type MemberPath } from 'btf-parser';
import {
  ArSh,
  type Instruction,
  JEq,
  JGE,
  JGT,
  JLE,
  JLT,
  JNE,
  JSGE,
  JSGT,
  JSLE,
  JSLT,
  LoadImm64,
  LSh,
  R1,
  R2,
  R7,
  R9,
  RSh,
  type Register,
} from 'bpf-asm-ts';
import type { Emitter } from './emitter.js';
import type { Frame } from './program.js';

/** A `--filter-skb-expr` or `--filter-xdp-expr` that cannot be compiled; the message says what is wrong. */
export class SkbExprError extends Error {
  override name = 'SkbExprError';
}

type Op = '==' | '!=' | '<' | '<=' | '>' | '>=';

/** A compiled one-comparison expression: `skb->a->b.c OP constant`. */
export interface SkbExpr {
  readonly text: string;
  readonly path: MemberPath;
  readonly op: Op;
  /** The constant, already byte-swapped for `__be*` fields, as the kernel stores it. */
  readonly value: bigint;
}

/** What an expression starts from: `skb` (a `struct sk_buff *`) or `xdp` (a `struct xdp_buff *`). */
export interface ExprRoot {
  /** The identifier the expression starts with. */
  readonly name: 'skb' | 'xdp';
  /** The kernel struct it points to. */
  readonly struct: string;
  /** The flag named in error messages. */
  readonly flag: string;
}

/** `--filter-skb-expr`: `skb` is the `struct sk_buff *`. */
export const SKB_ROOT: ExprRoot = { name: 'skb', struct: 'sk_buff', flag: '--filter-skb-expr' };
/** `--filter-xdp-expr`: `xdp` is the `struct xdp_buff *` (what an XDP program's `xdp_md` really is). */
export const XDP_ROOT: ExprRoot = { name: 'xdp', struct: 'xdp_buff', flag: '--filter-xdp-expr' };

const exprPattern = (root: string): RegExp =>
  new RegExp(`^\\s*(${root}\\s*(?:(?:->|\\.)\\s*[A-Za-z_][A-Za-z0-9_]*\\s*)+)(==|!=|<=|>=|=|<|>)\\s*([A-Za-z0-9_]+)\\s*$`);

function swap(v: bigint, bytes: number): bigint {
  let out = 0n;
  for (let i = 0; i < bytes; i++) out = (out << 8n) | ((v >> BigInt(8 * i)) & 0xffn);
  return out;
}

function parseNumber(s: string): bigint | undefined {
  if (/^0[xX][0-9a-fA-F]+$/.test(s) || /^0[oO][0-7]+$/.test(s) || /^0[bB][01]+$/.test(s) || /^[0-9]+$/.test(s)) return BigInt(s);
  return undefined;
}

/** The name of the first typedef on the way from `id` to its underlying type (`__be16`). */
function typedefName(btf: Btf, id: number): string | undefined {
  for (let i = 0; i < 16 && id !== 0; i++) {
    const t = btf.type(id);
    if (t.kind === 'typedef') return t.name;
    if (t.kind === 'const' || t.kind === 'volatile' || t.kind === 'restrict' || t.kind === 'type_tag') id = t.type;
    else return undefined;
  }
  return undefined;
}

/**
 * Compiles upstream's `--filter-skb-expr` language against the kernel's BTF: exactly
 * `skb->member(->|.)... OP constant`, OP one of `== = != < <= > >=`, the constant a number
 * (`0x`, `0o`, `0b` or decimal) or an enumerator name — taken by its value, where upstream took
 * its index (a bug for sparse enums). `__be16/32/64` fields compare against the swapped constant,
 * so `skb->protocol == 0x0800` works as written.
 */
export function compileSkbExpr(btf: Btf, text: string): SkbExpr {
  return compileMemberExpr(btf, text, SKB_ROOT);
}

/** {@link compileSkbExpr} for `--filter-xdp-expr`: `xdp->rxq->dev->ifindex == 9`. */
export function compileXdpExpr(btf: Btf, text: string): SkbExpr {
  return compileMemberExpr(btf, text, XDP_ROOT);
}

/** The expression language of {@link compileSkbExpr}, starting from `root`. */
export function compileMemberExpr(btf: Btf, text: string, root: ExprRoot): SkbExpr {
  const flag = root.flag;
  if (!new RegExp(`^\\s*${root.name}\\b`).test(text)) throw new SkbExprError(`${flag} must start with ${root.name}`);
  const m = exprPattern(root.name).exec(text);
  if (!m) throw new SkbExprError(`${flag} ${JSON.stringify(text)}: expected one comparison like '${root.name === 'skb' ? 'skb->dev->ifindex == 2' : 'xdp->rxq->dev->ifindex == 2'}'`);
  const access = m[1]!.replace(/\s+/g, '');
  if (!access.startsWith(`${root.name}->`)) throw new SkbExprError(`${flag} ${JSON.stringify(text)}: ${root.name} is a pointer, use ${root.name}->`);
  let path: MemberPath;
  try {
    path = memberPath(btf, btf.typeByName(root.struct, 'struct'), access.slice(root.name.length + 2));
  } catch (e) {
    throw new SkbExprError(`${flag} ${JSON.stringify(text)}: ${(e as Error).message}`);
  }
  const last = btf.type(resolveType(btf, path.type));
  if (last.kind !== 'int' && last.kind !== 'enum' && last.kind !== 'enum64' && last.kind !== 'ptr') {
    throw new SkbExprError(`${flag} ${JSON.stringify(text)}: ${access} is a ${last.kind}, not an integer, enum or pointer`);
  }
  if (path.size > 8) throw new SkbExprError(`${flag} ${JSON.stringify(text)}: ${access} is too large, max 8 bytes`);
  const rhs = m[3]!;
  let value = parseNumber(rhs);
  if (value === undefined) {
    if (last.kind === 'enum' || last.kind === 'enum64') {
      const e = last.values.find((v) => v.name === rhs);
      if (e) value = BigInt(e.value);
    }
    if (value === undefined) {
      throw new SkbExprError(`${flag} ${JSON.stringify(text)}: ${rhs} is neither a number nor an enumerator of ${access}`);
    }
  }
  const td = typedefName(btf, path.type);
  if (td && /^__be(16|32|64)$/.test(td)) value = swap(value, Number(td.slice(4)) / 8);
  const op = (m[2] === '=' ? '==' : m[2]) as Op;
  return { text, path, op, value };
}

const REJECT_UNSIGNED = { '==': JNE, '!=': JEq, '<': JGE, '<=': JGT, '>': JLE, '>=': JLT } as const;
const REJECT_SIGNED = { '==': JNE, '!=': JEq, '<': JSGE, '<=': JSGT, '>': JSLE, '>=': JSLT } as const;

/**
 * The filter fragment: every pointer hop is one `bpf_probe_read_kernel` from the root pointer in
 * r7 (the skb, or the xdp_buff); a NULL pointer on the way rejects the packet (as upstream).
 */
export function skbExprFragment(expr: SkbExpr, frame: Pick<Frame, 'scratch'>): (e: Emitter, reject: string) => void {
  return (e, reject) => {
    e.section(`filter: ${expr.text.trimStart().startsWith('xdp') ? XDP_ROOT.flag : SKB_ROOT.flag} ${expr.text}`);
    let base: Register = R7;
    const loads = expr.path.loads;
    for (let i = 0; i < loads.length; i++) {
      const l = loads[i]!;
      e.readKernel(i === loads.length - 1 ? R1 : R9, base, l.offset, l.size, frame.scratch);
      if (l.deref) {
        e.ifZero(R9, reject);
        base = R9;
      }
    }
    const last = loads[loads.length - 1]!;
    const bits = 8 * last.size;
    if (last.bitSize !== undefined) {
      if (last.bitOffset) e.emit(RSh.imm(R1, last.bitOffset));
      e.emit(LSh.imm(R1, 64 - last.bitSize), RSh.imm(R1, 64 - last.bitSize));
    }
    if (expr.path.signed) {
      const width = last.bitSize ?? bits;
      if (width < 64) e.emit(LSh.imm(R1, 64 - width), ArSh.imm(R1, 64 - width));
    }
    const table = expr.path.signed ? REJECT_SIGNED : REJECT_UNSIGNED;
    let v = expr.value;
    if (expr.path.signed && v >= 1n << 63n) v -= 1n << 64n;
    const insns: Instruction[] = [];
    // Immediates are sign-extended to 64 bits: unsigned values need them below 2^31.
    if (v < 1n << 31n && (expr.path.signed ? v >= -(1n << 31n) : v >= 0n)) insns.push(table[expr.op].imm(R1, Number(v), reject));
    else insns.push(LoadImm64(R2, v), table[expr.op].reg(R1, R2, reject));
    e.emit(...insns);
  };
}
