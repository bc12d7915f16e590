import { type Btf, memberPath, resolveType, type MemberPath } from 'btf-parser';
import { ArSh, LSh, R1, R7, R8, R9, RSh, StoreImm, StoreMem, type Register } from 'bpf-asm-ts';
import type { Addr64 } from '../event.js';
import type { Emitter } from './emitter.js';
import type { Frame } from './program.js';
import { PwruError } from '../errors.js';

/** A bad `--output-skb-metadata` or `--output-xdp-metadata` expression. */
export class SkbMetadataError extends PwruError {
  override name = 'SkbMetadataError';
}

/** How a metadata value is printed (upstream prints through its BTF value dumper). */
export type MetadataFormat =
  | { readonly kind: 'uint' }
  | { readonly kind: 'int'; readonly bits: number }
  | { readonly kind: 'bool' }
  | { readonly kind: 'ptr' }
  | { readonly kind: 'bitfield' }
  | { readonly kind: 'enum'; readonly names: ReadonlyMap<number, string> };

/** One compiled `--output-skb-metadata` expression. */
export interface SkbMetadata {
  readonly text: string;
  /** The last member's name: printed as ` name=value`. */
  readonly field: string;
  readonly path: MemberPath;
  readonly format: MetadataFormat;
}

/** At most this many expressions, as upstream. */
export const MAX_SKB_METADATA = 4;

/**
 * Compiles `--output-skb-metadata` expressions (`skb->hash`, `skb->dev->ifindex`): member
 * accesses on the skb whose last member is at most 8 bytes.
 */
export function compileSkbMetadata(btf: Btf, exprs: readonly string[]): SkbMetadata[] {
  return compileMetadata(btf, exprs, 'skb');
}

/** {@link compileSkbMetadata} for `--output-xdp-metadata`: `xdp->rxq->queue_index` on `struct xdp_buff`. */
export function compileXdpMetadata(btf: Btf, exprs: readonly string[]): SkbMetadata[] {
  return compileMetadata(btf, exprs, 'xdp');
}

function compileMetadata(btf: Btf, exprs: readonly string[], root: 'skb' | 'xdp'): SkbMetadata[] {
  const struct = root === 'skb' ? 'sk_buff' : 'xdp_buff';
  const example = root === 'skb' ? 'skb->dev->ifindex' : 'xdp->rxq->queue_index';
  if (exprs.length > MAX_SKB_METADATA)
    throw new SkbMetadataError(`too many ${root} metadata exprs, max ${MAX_SKB_METADATA}`);
  return exprs.map((text) => {
    const access = text.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9_.\->]+$/.test(access))
      throw new SkbMetadataError(
        `invalid ${root} metadata expr ${JSON.stringify(text)}: only member accesses like ${example}`,
      );
    if (!access.startsWith(`${root}->`))
      throw new SkbMetadataError(`${root} metadata expr ${JSON.stringify(text)} must start with ${root}->`);
    let path: MemberPath;
    try {
      path = memberPath(btf, btf.typeByName(struct, 'struct'), access.slice(root.length + 2));
    } catch (e) {
      throw new SkbMetadataError(`${root} metadata expr ${JSON.stringify(text)}: ${(e as Error).message}`);
    }
    if (path.size > 8)
      throw new SkbMetadataError(`${root} metadata expr ${JSON.stringify(text)} is too large, max 8 bytes`);
    const t = btf.type(resolveType(btf, path.type));
    let format: MetadataFormat;
    if (path.bitfieldSize > 0 && t.kind !== 'enum') format = { kind: 'bitfield' };
    else if (t.kind === 'ptr') format = { kind: 'ptr' };
    else if (t.kind === 'enum' || t.kind === 'enum64')
      format = { kind: 'enum', names: new Map(t.values.map((v) => [Number(v.value), v.name])) };
    else if (t.kind === 'int' && (t.encoding & 4) !== 0) format = { kind: 'bool' };
    else if (t.kind === 'int' && t.signed) format = { kind: 'int', bits: 8 * path.size };
    else if (t.kind === 'int') format = { kind: 'uint' };
    else
      throw new SkbMetadataError(
        `${root} metadata expr ${JSON.stringify(text)}: a ${t.kind} cannot be printed as a value`,
      );
    return { text, field: path.steps[path.steps.length - 1]!.name, path, format };
  });
}

/**
 * Emits the reads of every expression from the root pointer in r7 (skb or xdp_buff) into the
 * event at `base` (8 bytes each; 0 on a NULL hop).
 */
export function emitSkbMetadata(
  e: Emitter,
  exprs: readonly SkbMetadata[],
  frame: Pick<Frame, 'scratch'>,
  base: number,
): void {
  exprs.forEach((x, i) => {
    e.section(`event: --output-${x.text.trimStart().startsWith('xdp') ? 'xdp' : 'skb'}-metadata ${x.text}`);
    const skip = e.fresh('md_skip');
    e.emit(StoreImm(R8, base + 8 * i, 0, 'u64'));
    let from: Register = R7;
    const loads = x.path.loads;
    loads.forEach((l, j) => {
      const last = j === loads.length - 1;
      e.readKernel(last ? R1 : R9, from, l.offset, l.size, frame.scratch);
      if (l.deref) {
        e.ifZero(R9, skip);
        from = R9;
      }
      if (last) {
        if (l.bitSize !== undefined) {
          if (l.bitOffset) e.emit(RSh.imm(R1, l.bitOffset));
          e.emit(LSh.imm(R1, 64 - l.bitSize), RSh.imm(R1, 64 - l.bitSize));
        } else if (x.format.kind === 'int' && l.size < 8) {
          e.emit(LSh.imm(R1, 64 - 8 * l.size), ArSh.imm(R1, 64 - 8 * l.size));
        }
        e.emit(StoreMem(R8, base + 8 * i, R1, 'u64'));
      }
    });
    e.label(skip);
  });
}

/** The text a value prints as (` field=value`): decimal, enum names, `0x..` pointers, true/false. */
export function formatMetadataValue(x: SkbMetadata, v: Addr64): string {
  const f = x.format;
  switch (f.kind) {
    case 'uint':
      return v.hi === 0 ? String(v.lo) : ((BigInt(v.hi) << 32n) | BigInt(v.lo)).toString();
    case 'int':
      return v.hi === 0 && v.lo < 0x80000000
        ? String(v.lo)
        : BigInt.asIntN(64, (BigInt(v.hi) << 32n) | BigInt(v.lo)).toString();
    case 'bool':
      return v.lo !== 0 || v.hi !== 0 ? 'true' : 'false';
    case 'ptr':
    case 'bitfield':
      return '0x' + ((BigInt(v.hi) << 32n) | BigInt(v.lo)).toString(16);
    case 'enum':
      return f.names.get(v.lo | 0) ?? f.names.get(v.lo) ?? String(v.lo | 0);
  }
}
