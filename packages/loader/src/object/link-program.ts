import type { ObjectFunction, ObjectSpec } from './parse.js';
import { ObjectError } from './parse.js';

/** What a linked program's instructions still need from the loader: map fds and extern values. */
export type PendingReference =
  | { readonly insn: number; readonly kind: 'map'; readonly map: string }
  | { readonly insn: number; readonly kind: 'data'; readonly map: string; readonly offset: number }
  | { readonly insn: number; readonly kind: 'extern'; readonly name: string };

/** One program with its subprograms appended and calls resolved (libbpf's layout). */
export interface LinkedObjectProgram {
  /** Instructions, 8 bytes each. */
  readonly insns: Uint8Array;
  readonly references: readonly PendingReference[];
  /** `struct bpf_func_info` records (insn_off, type_id), back to back. */
  readonly funcInfo: Uint8Array | undefined;
  /** `struct bpf_line_info` records, back to back. */
  readonly lineInfo: Uint8Array | undefined;
  /** line_info records, rebased, in instruction order (for messages naming the C source line). */
  readonly lines: readonly {
    readonly insn: number;
    readonly fileNameOff: number;
    readonly lineOff: number;
    readonly lineCol: number;
  }[];
  /** The functions in the order they were laid out. */
  readonly layout: readonly { readonly fn: ObjectFunction; readonly at: number }[];
}

const BPF_PSEUDO_CALL = 1;
const BPF_PSEUDO_FUNC = 4;

/**
 * Lays out a program and the subprograms it calls: the entry function first, then each
 * subprogram in the order the scan of the growing program first reaches a call to it, as libbpf
 * does (so the instructions match libbpf's byte for byte). `code` gives each section's
 * (CO-RE-relocated) instructions.
 */
export function linkProgram(
  obj: ObjectSpec,
  entry: ObjectFunction,
  code: ReadonlyMap<number, Uint8Array>,
): LinkedObjectProgram {
  const layout: { fn: ObjectFunction; at: number }[] = [];
  const chunks: Uint8Array[] = [];
  let total = 0;
  const placed = new Map<ObjectFunction, number>();
  const place = (fn: ObjectFunction): number => {
    const at = total;
    const insns = code.get(fn.section)!;
    chunks.push(insns.slice(fn.start * 8, (fn.start + fn.length) * 8));
    total += fn.length;
    placed.set(fn, at);
    layout.push({ fn, at });
    return at;
  };
  const fnAt = (section: number, insn: number, where: string): ObjectFunction => {
    const fn = obj.functions.find((f) => f.section === section && f.start === insn);
    if (!fn)
      throw new ObjectError(`${where}: calls into the middle of a function (section ${section}, instruction ${insn})`);
    return fn;
  };
  place(entry);
  const references: PendingReference[] = [];
  // Walk function by function; functions placed meanwhile are walked in turn.
  for (let li = 0; li < layout.length; li++) {
    const { fn, at } = layout[li]!;
    const sec = obj.code.get(fn.section)!;
    const bytes = chunks[li]!;
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < fn.length; i++) {
      const secInsn = fn.start + i;
      const where = `${fn.name} (${fn.sectionName}) instruction ${i}`;
      const op = bytes[i * 8]!;
      const src = bytes[i * 8 + 1]! >> 4;
      const ref = sec.refs.get(secInsn);
      let callee: ObjectFunction | undefined;
      if (ref?.kind === 'call' || ref?.kind === 'func') {
        callee = fnAt(ref.section, ref.insn, where);
      } else if (!ref && op === 0x85 && src === BPF_PSEUDO_CALL) {
        callee = fnAt(fn.section, secInsn + v.getInt32(i * 8 + 4, true) + 1, where);
      } else if (ref?.kind === 'map') {
        references.push({ insn: at + i, kind: 'map', map: ref.map });
      } else if (ref?.kind === 'data') {
        references.push({ insn: at + i, kind: 'data', map: ref.map, offset: ref.offset });
      } else if (ref?.kind === 'extern') {
        references.push({ insn: at + i, kind: 'extern', name: ref.name });
      }
      if (callee) {
        const target = placed.get(callee) ?? place(callee);
        const regs = bytes[i * 8 + 1]! & 0x0f;
        bytes[i * 8 + 1] = regs | ((op === 0x85 ? BPF_PSEUDO_CALL : BPF_PSEUDO_FUNC) << 4);
        v.setInt32(i * 8 + 4, target - (at + i) - 1, true);
      }
      if (op === 0x18) i++; // second half of a 64-bit load
    }
  }
  const insns = new Uint8Array(total * 8);
  let off = 0;
  for (const c of chunks) {
    insns.set(c, off);
    off += c.length;
  }
  // func_info and line_info, rebased onto the layout.
  const funcRecs: number[] = [];
  const lineRecs: number[] = [];
  const lines: { insn: number; fileNameOff: number; lineOff: number; lineCol: number }[] = [];
  for (const { fn, at } of layout) {
    const sec = obj.code.get(fn.section)!;
    const inFn = (insn: number) => insn >= fn.start && insn < fn.start + fn.length;
    for (const r of sec.funcInfo) if (inFn(r.insn)) funcRecs.push(at + r.insn - fn.start, r.typeId);
    for (const r of sec.lineInfo) {
      if (!inFn(r.insn)) continue;
      lineRecs.push(at + r.insn - fn.start, r.fileNameOff, r.lineOff, r.lineCol);
      lines.push({ insn: at + r.insn - fn.start, fileNameOff: r.fileNameOff, lineOff: r.lineOff, lineCol: r.lineCol });
    }
  }
  const pack = (words: number[]) => (words.length ? new Uint8Array(Uint32Array.from(words).buffer) : undefined);
  return { insns, references, funcInfo: pack(funcRecs), lineInfo: pack(lineRecs), lines, layout };
}
