import { encode, link, type Instruction, type LinkedProgram } from 'bpf-asm-ts';
import { BpfError } from '../errors.js';
import type { HasFd, ProgramRelocation, ProgramSpec } from './spec.js';

/** A relocation the loader could not satisfy (unknown map, missing BTF resolver, ...). */
export class RelocationError extends BpfError {}

/** Encoded, relocated instructions plus a slot → comment lookup. */
export interface PreparedInstructions {
  /** 8 bytes per slot, every reference filled in. */
  readonly bytes: Uint8Array;
  /** The generator's comment for a slot, if any. */
  readonly commentAt: (slot: number) => string | undefined;
}

function isLinked(x: unknown): x is LinkedProgram {
  return typeof x === 'object' && x !== null && 'relocations' in x && 'resolve' in x && 'commentAtSlot' in x;
}

function mapLookup(spec: ProgramSpec, symbol: string): HasFd | undefined {
  const maps = spec.maps;
  if (!maps) return undefined;
  if (maps instanceof Map) return maps.get(symbol);
  return (maps as Record<string, HasFd>)[symbol];
}

function valueFor(spec: ProgramSpec, r: ProgramRelocation): { imm: number; offset?: number } {
  switch (r.kind) {
    case 'map_fd':
    case 'map_value': {
      const m = mapLookup(spec, r.symbol);
      if (!m) {
        const known = spec.maps ? [...(spec.maps instanceof Map ? spec.maps.keys() : Object.keys(spec.maps))] : [];
        throw new RelocationError(
          `instruction ${r.index} references map "${r.symbol}", which is not among the maps given (${known.join(', ') || 'none'})`,
        );
      }
      return { imm: m.fd };
    }
    case 'btf_id':
    case 'kfunc': {
      if (!spec.resolveBtf) {
        throw new RelocationError(
          `instruction ${r.index} references ${r.kind} "${r.symbol}": pass resolveBtf to resolve BTF ids`,
        );
      }
      const ref = spec.resolveBtf(r.symbol, r.kind);
      return ref.fdArrayIndex ? { imm: ref.id, offset: ref.fdArrayIndex } : { imm: ref.id };
    }
    default:
      throw new RelocationError(
        `instruction ${r.index}: unresolved ${r.kind} reference "${r.symbol}" (link the program first)`,
      );
  }
}

/** Turns a spec's instructions into relocated bytes. */
export function prepareInstructions(spec: ProgramSpec): PreparedInstructions {
  const src = spec.instructions;
  if (src instanceof Uint8Array) {
    if (src.length === 0 || src.length % 8 !== 0) {
      throw new RelocationError(`instructions are ${src.length} bytes; expected a non-zero multiple of 8`);
    }
    const bytes = src.slice();
    const dv = new DataView(bytes.buffer);
    for (const r of spec.relocations ?? []) {
      const v = valueFor(spec, r);
      dv.setInt32(r.index * 8 + 4, v.imm | 0, true);
      if (v.offset !== undefined) dv.setInt16(r.index * 8 + 2, v.offset, true);
    }
    const c = spec.comments;
    const commentAt = typeof c === 'function' ? c : (slot: number) => c?.[slot];
    return { bytes, commentAt };
  }
  const linked = isLinked(src) ? src : link(src as readonly Instruction[]);
  const insns = linked.resolve((r) => valueFor(spec, r));
  return { bytes: encode(insns), commentAt: (slot) => linked.commentAtSlot(slot) };
}
