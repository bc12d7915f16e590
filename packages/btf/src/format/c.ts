import type { Btf } from '../btf.js';
import { BtfError } from '../errors.js';
import { alignOf, pointerSize, sizeOf } from '../resolve.js';
import type { BtfType, CompositeType, Enum64Type, EnumType } from '../types.js';

const ORDERING = 1;
const ORDERED = 2;
const EMITTING = 1;
const EMITTED = 2;

/** Deepest type chain followed before declaring a cycle (real kernels nest a few dozen deep). */
const MAX_DEPTH = 2000;
/** Most padding lines emitted for one gap; more means a corrupt size. */
const MAX_PAD_LINES = 1 << 16;

const TABS = '\t'.repeat(12);
const PREFIXES = Array.from({ length: 13 }, (_, i) => TABS.slice(0, i));
const pfx = (lvl: number): string => PREFIXES[Math.min(lvl, 12)]!;
const roundup = (x: number, y: number): number => Math.ceil(x / y) * y;

const HEADER =
  '#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n' +
  '#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n\n';
const FOOTER =
  '#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n';

/**
 * Emits C declarations for BTF types in dependency order, the way libbpf's `btf_dump` does for
 * `bpftool btf dump file F format c`: a type is defined after everything it embeds, pointers to
 * not-yet-defined structs get forward declarations, and duplicate names get `___N` suffixes.
 */
class CDumper {
  private readonly order: Uint8Array;
  private readonly emit: Uint8Array;
  private readonly fwdEmitted: Uint8Array;
  private readonly referenced: Uint8Array;
  private readonly nameResolved: Uint8Array;
  private readonly cachedNames = new Map<number, string>();
  private readonly typeNames = new Map<string, number>();
  private readonly identNames = new Map<string, number>();
  private queue: number[] = [];
  private out: string[] = [];
  private readonly ptrSize: number;
  /** Padding types from widest to narrowest, with their widths in bits. */
  private readonly pads: readonly (readonly [string, number])[];

  constructor(private readonly btf: Btf) {
    const n = btf.maxTypeId + 1;
    this.order = new Uint8Array(n);
    this.emit = new Uint8Array(n);
    this.fwdEmitted = new Uint8Array(n);
    this.referenced = new Uint8Array(n);
    this.nameResolved = new Uint8Array(n);
    this.ptrSize = pointerSize(btf);
    this.pads = [
      ['long', this.ptrSize * 8],
      ['int', 32],
      ['short', 16],
      ['char', 8],
    ];
    this.markReferenced();
  }

  private t(id: number): BtfType {
    return this.btf.type(id);
  }

  private markReferenced(): void {
    const ref = this.referenced;
    for (let id = 1; id <= this.btf.maxTypeId; id++) {
      const t = this.t(id);
      switch (t.kind) {
        case 'ptr':
        case 'typedef':
        case 'volatile':
        case 'const':
        case 'restrict':
        case 'type_tag':
        case 'func':
        case 'var':
        case 'decl_tag':
          ref[t.type] = 1;
          break;
        case 'array':
          ref[t.indexType] = 1;
          ref[t.type] = 1;
          break;
        case 'struct':
        case 'union':
          for (const m of t.members) ref[m.type] = 1;
          break;
        case 'func_proto':
          for (const p of t.params) ref[p.type] = 1;
          if (t.variadic) ref[0] = 1;
          break;
        case 'datasec':
          for (const v of t.vars) ref[v.type] = 1;
          break;
        default:
          break;
      }
    }
  }

  /** Emits one top-level type and whatever it needs first; returns the text. */
  dumpType(id: number): string {
    this.queue = [];
    this.orderType(id, false);
    this.out = [];
    for (const q of this.queue) this.emitType(q, 0);
    return this.out.join('');
  }

  private p(s: string): void {
    this.out.push(s);
  }

  // ---- ordering -------------------------------------------------------------------------------

  private orderType(id: number, throughPtr: boolean, depth = 0): number {
    if (this.order[id] === ORDERED) return 1;
    if (depth > MAX_DEPTH)
      throw new BtfError(`type chain through type id ${id} is deeper than ${MAX_DEPTH} (a cycle?)`);
    const t = this.t(id);
    if (this.order[id] === ORDERING) {
      if ((t.kind === 'struct' || t.kind === 'union') && throughPtr && t.nameOff !== 0) return 0;
      throw new BtfError(`unsatisfiable type cycle through type id ${id}`);
    }
    switch (t.kind) {
      case 'int':
      case 'float':
        this.order[id] = ORDERED;
        return 0;
      case 'ptr': {
        const r = this.orderType(t.type, true, depth + 1);
        this.order[id] = ORDERED;
        return r;
      }
      case 'array':
        return this.orderType(t.type, false, depth + 1);
      case 'struct':
      case 'union': {
        if (throughPtr && t.nameOff !== 0) return 0;
        this.order[id] = ORDERING;
        for (const m of t.members) this.orderType(m.type, false, depth + 1);
        // libbpf 1.1 (bpftool 7.1) emits only named structs/unions at top level.
        if (t.nameOff !== 0) this.queue.push(id);
        this.order[id] = ORDERED;
        return 1;
      }
      case 'enum':
      case 'enum64':
      case 'fwd':
        if (t.nameOff !== 0 || !this.referenced[id]) this.queue.push(id);
        this.order[id] = ORDERED;
        return 1;
      case 'typedef': {
        const strong = this.orderType(t.type, throughPtr, depth + 1);
        if (throughPtr && !strong) return 0;
        this.queue.push(id);
        this.order[id] = ORDERED;
        return 1;
      }
      case 'volatile':
      case 'const':
      case 'restrict':
      case 'type_tag':
        return this.orderType(t.type, throughPtr, depth + 1);
      case 'func_proto': {
        let strong = this.orderType(t.returnType, throughPtr, depth + 1) > 0;
        for (const p of t.params) if (this.orderType(p.type, throughPtr, depth + 1) > 0) strong = true;
        return strong ? 1 : 0;
      }
      case 'func':
      case 'var':
      case 'datasec':
      case 'decl_tag':
        this.order[id] = ORDERED;
        return 0;
      case 'void':
        return 0;
    }
  }

  // ---- names --------------------------------------------------------------------------------

  private dups(map: Map<string, number>, name: string): number {
    const n = (map.get(name) ?? 0) + 1;
    map.set(name, n);
    return n;
  }

  private resolveName(id: number, map: Map<string, number>): string {
    const t = this.t(id);
    if (t.nameOff === 0) return '';
    if (this.nameResolved[id]) return this.cachedNames.get(id) ?? t.name;
    this.nameResolved[id] = 1;
    if (t.kind === 'fwd' || (t.kind === 'enum' && t.values.length === 0)) return t.name;
    const n = this.dups(map, t.name);
    if (n > 1) {
      const name = `${t.name}___${n}`;
      this.cachedNames.set(id, name);
      return name;
    }
    return t.name;
  }

  private typeName(id: number): string {
    return this.resolveName(id, this.typeNames);
  }

  private identName(id: number): string {
    return this.resolveName(id, this.identNames);
  }

  // ---- emitting -----------------------------------------------------------------------------

  private isBlacklisted(t: BtfType): boolean {
    return t.nameOff !== 0 && t.name === '__builtin_va_list';
  }

  private emitType(id: number, contId: number, depth = 0): void {
    if (this.emit[id] === EMITTED) return;
    if (depth > MAX_DEPTH)
      throw new BtfError(`type chain through type id ${id} is deeper than ${MAX_DEPTH} (a cycle?)`);
    const topLevel = contId === 0;
    const t = this.t(id);
    if (this.emit[id] === EMITTING) {
      if (this.fwdEmitted[id]) return;
      if (t.kind === 'struct' || t.kind === 'union') {
        if (id === contId) return;
        if (t.nameOff === 0) return; // anonymous struct/union loop: nothing useful to declare
        this.emitStructFwd(id, t);
        this.p(';\n\n');
        this.fwdEmitted[id] = 1;
      } else if (t.kind === 'typedef') {
        if (!this.isBlacklisted(t)) {
          this.emitTypedefDef(id, t.type, 0);
          this.p(';\n\n');
        }
        this.fwdEmitted[id] = 1;
      }
      return;
    }
    switch (t.kind) {
      case 'int':
        this.emit[id] = EMITTED;
        break;
      case 'enum':
      case 'enum64':
        if (topLevel) {
          this.emitEnumDef(id, t, 0);
          this.p(';\n\n');
        }
        this.emit[id] = EMITTED;
        break;
      case 'ptr':
      case 'volatile':
      case 'const':
      case 'restrict':
      case 'type_tag':
        this.emitType(t.type, contId, depth + 1);
        break;
      case 'array':
        this.emitType(t.type, contId, depth + 1);
        break;
      case 'fwd':
        this.emitFwdDef(id, t.fwdKind);
        this.p(';\n\n');
        this.emit[id] = EMITTED;
        break;
      case 'typedef':
        this.emit[id] = EMITTING;
        this.emitType(t.type, id, depth + 1);
        if (!this.fwdEmitted[id] && !this.isBlacklisted(t)) {
          this.emitTypedefDef(id, t.type, 0);
          this.p(';\n\n');
        }
        this.emit[id] = EMITTED;
        break;
      case 'struct':
      case 'union':
        this.emit[id] = EMITTING;
        if (topLevel || t.nameOff === 0) {
          const cont = t.nameOff === 0 ? contId : id;
          for (const m of t.members) this.emitType(m.type, cont, depth + 1);
        } else if (!this.fwdEmitted[id] && id !== contId) {
          this.emitStructFwd(id, t);
          this.p(';\n\n');
          this.fwdEmitted[id] = 1;
        }
        if (topLevel) {
          this.emitStructDef(id, t, 0);
          this.p(';\n\n');
          this.emit[id] = EMITTED;
        } else {
          this.emit[id] = 0;
        }
        break;
      case 'func_proto':
        this.emitType(t.returnType, contId, depth + 1);
        for (const p of t.params) this.emitType(p.type, contId, depth + 1);
        break;
      default:
        break;
    }
  }

  private emitStructFwd(id: number, t: CompositeType): void {
    this.p(`${t.kind}${t.nameOff ? ' ' : ''}${this.typeName(id)}`);
  }

  private emitFwdDef(id: number, kind: 'struct' | 'union'): void {
    this.p(`${kind} ${this.typeName(id)}`);
  }

  private emitTypedefDef(id: number, target: number, lvl: number): void {
    const name = this.identName(id);
    if (target === 0 && name === '__gnuc_va_list') {
      this.p('typedef __builtin_va_list __gnuc_va_list');
      return;
    }
    this.p('typedef ');
    this.emitTypeDecl(target, name, lvl);
  }

  private emitEnumDef(id: number, t: EnumType | Enum64Type, lvl: number): void {
    this.p(`enum${t.nameOff ? ' ' : ''}${this.typeName(id)}`);
    if (t.values.length === 0) return;
    this.p(' {');
    for (const v of t.values) {
      const n = this.dups(this.identNames, v.name);
      const name = n > 1 ? `${v.name}___${n}` : v.name;
      const val =
        t.kind === 'enum'
          ? String(v.value)
          : t.signed
            ? `${BigInt.asIntN(64, v.value as bigint)}LL`
            : `${BigInt.asUintN(64, v.value as bigint)}ULL`;
      this.p(`\n${pfx(lvl + 1)}${name} = ${val},`);
    }
    this.p(`\n${pfx(lvl)}}`);
  }

  private readonly sizes = new Map<number, number>();
  private readonly aligns = new Map<number, number>();

  private size(id: number): number {
    let s = this.sizes.get(id);
    if (s === undefined) {
      try {
        s = Math.max(0, sizeOf(this.btf, id));
      } catch {
        s = 0;
      }
      this.sizes.set(id, s);
    }
    return s;
  }

  private align(id: number): number {
    let a = this.aligns.get(id);
    if (a === undefined) {
      try {
        a = alignOf(this.btf, id);
      } catch {
        a = 0;
      }
      this.aligns.set(id, a);
    }
    return a;
  }

  private isPacked(t: CompositeType): boolean {
    let max = 1;
    for (const m of t.members) {
      const a = this.align(m.type);
      if (a && m.bitfieldSize === 0 && m.bitOffset % (8 * a) !== 0) return true;
      max = Math.max(a, max);
    }
    return t.size % max !== 0;
  }

  private emitStructDef(id: number, t: CompositeType, lvl: number): void {
    const isStruct = t.kind === 'struct';
    const align = this.align(id);
    const packed = isStruct ? this.isPacked(t) : false;
    this.p(`${t.kind}${t.nameOff ? ' ' : ''}${this.typeName(id)} {`);
    let off = 0;
    let prevBitfield = false;
    for (const m of t.members) {
      const mAlign = packed ? 1 : this.align(m.type);
      const inBitfield = prevBitfield && m.bitfieldSize !== 0;
      this.emitBitPadding(off, m.bitOffset, mAlign, inBitfield, lvl + 1);
      this.p(`\n${pfx(lvl + 1)}`);
      this.emitTypeDecl(m.type, m.name, lvl + 1);
      if (m.bitfieldSize) {
        this.p(`: ${m.bitfieldSize}`);
        off = m.bitOffset + m.bitfieldSize;
        prevBitfield = true;
      } else {
        off = m.bitOffset + this.size(m.type) * 8;
        prevBitfield = false;
      }
      this.p(';');
    }
    if (isStruct) this.emitBitPadding(off, t.size * 8, align, false, lvl + 1);
    if (t.members.length || t.size) this.p(`\n${pfx(lvl)}}`);
    else this.p('}');
    if (packed) this.p(' __attribute__((packed))');
  }

  private emitBitPadding(cur: number, next: number, nextAlign: number, inBitfield: boolean, lvl: number): void {
    if (cur >= next) return;
    if ((next - cur) / (this.ptrSize * 8) > MAX_PAD_LINES) {
      throw new BtfError(
        `a struct needs ${next - cur} bits of padding before offset ${next}: its size or offsets are corrupt`,
      );
    }
    const pads = this.pads;
    let padType = 'char';
    let padBits = 8;
    let newOff = 0;
    for (const [name, bits] of pads) {
      padType = name;
      padBits = bits;
      newOff = roundup(cur, bits);
      if (newOff <= next) break;
    }
    if (newOff > cur && newOff <= next) {
      if (
        inBitfield ||
        (newOff === next && roundup(cur, nextAlign * 8) !== newOff) ||
        (newOff !== next && next - newOff <= newOff - cur)
      ) {
        this.p(`\n${pfx(lvl)}${padType}: ${inBitfield ? newOff - cur : 0};`);
      }
      cur = newOff;
    }
    while (cur !== next) {
      const bits = Math.min(next - cur, padBits);
      if (bits === padBits) {
        this.p(`\n${pfx(lvl)}${padType}: ${padBits};`);
        cur += bits;
        continue;
      }
      for (let i = pads.length - 1; i >= 0; i--) {
        const [name, size] = pads[i]!;
        if (size < bits) continue;
        this.p(`\n${pfx(lvl)}${name}: ${bits};`);
        cur += bits;
        break;
      }
    }
  }

  // ---- declarators ----------------------------------------------------------------------------

  /** Emits `type name` for a declaration (member, parameter, typedef) at indent `lvl`. */
  emitTypeDecl(id: number, fname: string, lvl: number): void {
    const stack: number[] = [];
    for (let depth = 0; ; depth++) {
      if (depth > 1000) throw new BtfError(`declaration chain from type id ${id} does not end (a cycle?)`);
      stack.push(id);
      const t = this.t(id);
      if (
        t.kind === 'ptr' ||
        t.kind === 'volatile' ||
        t.kind === 'const' ||
        t.kind === 'restrict' ||
        t.kind === 'type_tag'
      ) {
        id = t.type;
      } else if (t.kind === 'func_proto') {
        id = t.returnType;
      } else if (t.kind === 'array') {
        id = t.type;
      } else {
        break;
      }
    }
    this.emitTypeChain(stack, fname, lvl);
  }

  private emitMods(stack: number[]): void {
    while (stack.length) {
      const k = this.t(stack[stack.length - 1]!).kind;
      if (k === 'volatile') this.p('volatile ');
      else if (k === 'const') this.p('const ');
      else if (k === 'restrict') this.p('restrict ');
      else return;
      stack.pop();
    }
  }

  private dropMods(stack: number[]): void {
    while (stack.length) {
      const k = this.t(stack[stack.length - 1]!).kind;
      if (k !== 'volatile' && k !== 'const' && k !== 'restrict' && k !== 'type_tag') return;
      stack.pop();
    }
  }

  private emitName(name: string, lastWasPtr: boolean): void {
    this.p(name && !lastWasPtr ? ` ${name}` : name);
  }

  private emitTypeChain(stack: number[], fname: string, lvl: number): void {
    let lastWasPtr = true;
    while (stack.length) {
      const id = stack.pop()!;
      if (id === 0) {
        this.emitMods(stack);
        this.p('void');
        lastWasPtr = false;
        continue;
      }
      const t = this.t(id);
      switch (t.kind) {
        case 'int':
        case 'float':
          this.emitMods(stack);
          this.p(t.name);
          break;
        case 'struct':
        case 'union':
          this.emitMods(stack);
          if (t.nameOff === 0) this.emitStructDef(id, t, lvl);
          else this.emitStructFwd(id, t);
          break;
        case 'enum':
        case 'enum64':
          this.emitMods(stack);
          if (t.nameOff === 0) this.emitEnumDef(id, t, lvl);
          else this.p(`enum ${this.typeName(id)}`);
          break;
        case 'fwd':
          this.emitMods(stack);
          this.emitFwdDef(id, t.fwdKind);
          break;
        case 'typedef':
          this.emitMods(stack);
          this.p(this.identName(id));
          break;
        case 'ptr':
          this.p(lastWasPtr ? '*' : ' *');
          break;
        case 'volatile':
          this.p(' volatile');
          break;
        case 'const':
          this.p(' const');
          break;
        case 'restrict':
          this.p(' restrict');
          break;
        case 'type_tag':
          this.emitMods(stack);
          this.p(` __attribute__((btf_type_tag("${t.name}")))`);
          break;
        case 'array': {
          this.dropMods(stack);
          if (stack.length === 0) {
            this.emitName(fname, lastWasPtr);
            this.p(`[${t.nelems}]`);
            return;
          }
          const multidim = this.t(stack[stack.length - 1]!).kind === 'array';
          if (fname && !lastWasPtr) this.p(' ');
          if (!multidim) this.p('(');
          this.emitTypeChain(stack, fname, lvl);
          if (!multidim) this.p(')');
          this.p(`[${t.nelems}]`);
          return;
        }
        case 'func_proto': {
          this.dropMods(stack);
          if (stack.length) {
            this.p(' (');
            this.emitTypeChain(stack, fname, lvl);
            this.p(')');
          } else {
            this.emitName(fname, lastWasPtr);
          }
          this.p('(');
          const params = t.params;
          if (params.length === 0 && !t.variadic) {
            this.p('void)');
            return;
          }
          // A lone `void` parameter is how BTF spells `(void)`; our decoder reports it as variadic.
          if (params.length === 0 && t.variadic) {
            this.p('void)');
            return;
          }
          params.forEach((q, i) => {
            if (i > 0) this.p(', ');
            this.emitTypeDecl(q.type, q.name, lvl);
          });
          if (t.variadic) this.p(', ...');
          this.p(')');
          return;
        }
        default:
          return;
      }
      lastWasPtr = t.kind === 'ptr';
    }
    this.emitName(fname, lastWasPtr);
  }
}

/**
 * Yields a C header for the BTF (a `vmlinux.h`) in chunks, like `bpftool btf dump file F format c`.
 * Split BTF includes its base's types, as bpftool does.
 */
export function* formatCChunks(btf: Btf): IterableIterator<string> {
  const d = new CDumper(btf);
  yield HEADER;
  let parts: string[] = [];
  for (let id = 1; id <= btf.maxTypeId; id++) {
    const s = d.dumpType(id);
    if (s) parts.push(s);
    if (parts.length >= 512) {
      yield parts.join('');
      parts = [];
    }
  }
  parts.push(FOOTER);
  yield parts.join('');
}

/** The whole C header for the BTF, like `bpftool btf dump file F format c`. */
export function formatC(btf: Btf): string {
  return [...formatCChunks(btf)].join('');
}
