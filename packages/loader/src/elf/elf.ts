import { BpfError } from '../errors.js';

/** A malformed or unsupported ELF file (the object loader's parse errors all derive from it). */
export class ElfError extends BpfError {}

/** Section header types the object loader cares about. */
export const SectionType = { NULL: 0, PROGBITS: 1, SYMTAB: 2, STRTAB: 3, REL: 9, NOBITS: 8 } as const;

/** SHF_EXECINSTR: the section holds code. */
export const SHF_EXECINSTR = 0x4;

/** One section of a relocatable ELF64 file. */
export interface ElfSection {
  /** Index in the section header table. */
  readonly index: number;
  /** Section name, e.g. `xdp`, `.maps`, `.rel.text`. */
  readonly name: string;
  /** SHT_* type. */
  readonly type: number;
  /** SHF_* flags. */
  readonly flags: number;
  /** sh_link. */
  readonly link: number;
  /** sh_info (for REL sections: the index of the section relocated). */
  readonly info: number;
  /** Size in bytes (also for NOBITS sections, which have no data). */
  readonly size: number;
  /** The section's bytes (empty for NOBITS), a view into the file. */
  readonly data: Uint8Array;
}

/** One symbol of `.symtab`. */
export interface ElfSymbol {
  /** Index in the symbol table. */
  readonly index: number;
  readonly name: string;
  /** STT_* (0 notype, 1 object, 2 func, 3 section). */
  readonly type: number;
  /** STB_* (0 local, 1 global, 2 weak). */
  readonly bind: number;
  /** STV_* visibility (0 default, 2 hidden). */
  readonly visibility: number;
  /** Section index (0 undefined: an extern). */
  readonly section: number;
  readonly value: number;
  readonly size: number;
}

/** One REL entry. */
export interface ElfRelocation {
  /** Byte offset in the relocated section. */
  readonly offset: number;
  /** Symbol table index. */
  readonly symbol: number;
  /** R_BPF_* type. */
  readonly type: number;
}

/** STT_* symbol types. */
export const SymbolType = { NOTYPE: 0, OBJECT: 1, FUNC: 2, SECTION: 3 } as const;

/** A parsed little-endian ELF64 relocatable file (what `clang -target bpf` writes). */
export interface ElfFile {
  readonly sections: readonly ElfSection[];
  readonly symbols: readonly ElfSymbol[];
  /** REL entries keyed by the index of the section they apply to. */
  readonly relocations: ReadonlyMap<number, readonly ElfRelocation[]>;
  /** Section by name (the first one with that name). */
  section(name: string): ElfSection | undefined;
}

const EM_BPF = 247;
const decoder = new TextDecoder('latin1');

function cString(bytes: Uint8Array, start: number, what: string): string {
  if (start >= bytes.length) throw new ElfError(`${what}: name offset ${start} is outside its string table`);
  let end = bytes.indexOf(0, start);
  if (end < 0) end = bytes.length;
  return decoder.decode(bytes.subarray(start, end));
}

/** Parses a BPF object file (ELF64, little-endian, e_machine EM_BPF). */
export function parseElf(bytes: Uint8Array): ElfFile {
  const len = bytes.byteLength;
  if (len < 64 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new ElfError('not an ELF file: compile the BPF C source with `clang -O2 -g -target bpf -c`');
  }
  if (bytes[4] !== 2) throw new ElfError('not a 64-bit ELF file: BPF objects are ELF64');
  if (bytes[5] !== 1)
    throw new ElfError('big-endian BPF objects are not supported: compile with -target bpfel (or bpf on x86)');
  const v = new DataView(bytes.buffer, bytes.byteOffset, len);
  const machine = v.getUint16(0x12, true);
  if (machine !== EM_BPF)
    throw new ElfError(`ELF machine is ${machine}, not BPF (247): compile with clang -target bpf`);
  const u64 = (o: number): number => {
    const x = v.getBigUint64(o, true);
    if (x > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfError(`ELF field at ${o} is too large`);
    return Number(x);
  };
  const shoff = u64(0x28);
  const shentsize = v.getUint16(0x3a, true);
  const shnum = v.getUint16(0x3c, true);
  const shstrndx = v.getUint16(0x3e, true);
  if (shnum === 0 || shoff === 0) throw new ElfError('ELF file has no section headers');
  if (shentsize < 64) throw new ElfError(`ELF section header size ${shentsize} is too small`);
  if (shoff + shnum * shentsize > len)
    throw new ElfError(`ELF section headers (${shnum}) run past the end of the file`);
  const raw = Array.from({ length: shnum }, (_, i) => {
    const o = shoff + i * shentsize;
    const type = v.getUint32(o + 4, true);
    const offset = u64(o + 0x18);
    const size = u64(o + 0x20);
    if (type !== SectionType.NOBITS && type !== SectionType.NULL && offset + size > len) {
      throw new ElfError(`ELF section ${i} runs past the end of the file`);
    }
    return {
      nameOff: v.getUint32(o, true),
      type,
      flags: u64(o + 8),
      offset,
      size,
      link: v.getUint32(o + 0x28, true),
      info: v.getUint32(o + 0x2c, true),
    };
  });
  const shstr = raw[shstrndx];
  if (!shstr || shstr.type !== SectionType.STRTAB) throw new ElfError('ELF section name table is missing');
  const shstrBytes = bytes.subarray(shstr.offset, shstr.offset + shstr.size);
  const sections: ElfSection[] = raw.map((s, index) => ({
    index,
    name: index === 0 ? '' : cString(shstrBytes, s.nameOff, `ELF section ${index}`),
    type: s.type,
    flags: s.flags,
    link: s.link,
    info: s.info,
    size: s.size,
    data:
      s.type === SectionType.NOBITS || s.type === SectionType.NULL
        ? new Uint8Array(0)
        : bytes.subarray(s.offset, s.offset + s.size),
  }));

  const symtab = sections.find((s) => s.type === SectionType.SYMTAB);
  if (!symtab) throw new ElfError('ELF file has no symbol table (.symtab): do not strip BPF objects');
  const strtab = sections[symtab.link];
  if (!strtab || strtab.type !== SectionType.STRTAB) throw new ElfError('ELF symbol table has no string table');
  const sv = new DataView(symtab.data.buffer, symtab.data.byteOffset, symtab.data.byteLength);
  const symbols: ElfSymbol[] = [];
  for (let i = 0, o = 0; o + 24 <= symtab.data.length; i++, o += 24) {
    const info = sv.getUint8(o + 4);
    const value = sv.getBigUint64(o + 8, true);
    const size = sv.getBigUint64(o + 16, true);
    symbols.push({
      index: i,
      name: cString(strtab.data, sv.getUint32(o, true), `ELF symbol ${i}`),
      type: info & 0xf,
      bind: info >> 4,
      visibility: sv.getUint8(o + 5) & 3,
      section: sv.getUint16(o + 6, true),
      value: value > 0xffffffffn ? -1 : Number(value),
      size: size > 0xffffffffn ? -1 : Number(size),
    });
  }

  const relocations = new Map<number, ElfRelocation[]>();
  for (const s of sections) {
    if (s.type !== SectionType.REL) continue;
    if (s.info >= sections.length)
      throw new ElfError(`relocation section ${s.name} applies to missing section ${s.info}`);
    const rv = new DataView(s.data.buffer, s.data.byteOffset, s.data.byteLength);
    const list: ElfRelocation[] = [];
    for (let o = 0; o + 16 <= s.data.length; o += 16) {
      const offset = rv.getBigUint64(o, true);
      const info = rv.getBigUint64(o + 8, true);
      const symbol = Number(info >> 32n);
      if (symbol >= symbols.length) throw new ElfError(`relocation in ${s.name} names missing symbol ${symbol}`);
      list.push({ offset: offset > 0xffffffffn ? -1 : Number(offset), symbol, type: Number(info & 0xffffffffn) });
    }
    relocations.set(s.info, list);
  }
  return {
    sections,
    symbols,
    relocations,
    section: (name) => sections.find((s) => s.name === name),
  };
}
