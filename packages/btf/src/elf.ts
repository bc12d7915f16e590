/** A minimal ELF reader: enough to find a named section (such as `.BTF`) in a vmlinux or `.ko`. */
import { BtfError } from './errors.js';

/** A malformed or unsupported ELF file. */
export class ElfError extends BtfError {
  override name = 'ElfError';
}

/** One section header. */
export interface ElfSection {
  readonly name: string;
  readonly type: number;
  readonly offset: number;
  readonly size: number;
}

const SHT_NOBITS = 8;

/** True when the bytes start with the ELF magic `\x7fELF`. */
export function isElf(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

/** Lists the sections of an ELF32 or ELF64 file of either byte order. */
export function elfSections(bytes: Uint8Array): ElfSection[] {
  if (!isElf(bytes)) throw new ElfError('not an ELF file (bad magic)');
  if (bytes.byteLength < 52) throw new ElfError('ELF header is truncated');
  const cls = bytes[4];
  const data = bytes[5];
  if (cls !== 1 && cls !== 2) throw new ElfError(`unsupported ELF class ${cls}`);
  if (data !== 1 && data !== 2) throw new ElfError(`unsupported ELF data encoding ${data}`);
  const is64 = cls === 2;
  const le = data === 1;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = bytes.byteLength;
  if (is64 && len < 64) throw new ElfError('ELF header is truncated');
  const word = (o: number): number => (is64 ? Number(v.getBigUint64(o, le)) : v.getUint32(o, le));
  const shoff = word(is64 ? 0x28 : 0x20);
  const shentsize = v.getUint16(is64 ? 0x3a : 0x2e, le);
  let shnum = v.getUint16(is64 ? 0x3c : 0x30, le);
  let shstrndx = v.getUint16(is64 ? 0x3e : 0x32, le);
  const minEnt = is64 ? 64 : 40;
  if (shoff === 0) return [];
  if (shentsize < minEnt) throw new ElfError(`ELF section header size ${shentsize} is too small`);
  const header = (i: number): { name: number; type: number; offset: number; size: number } => {
    const o = shoff + i * shentsize;
    if (o + minEnt > len) throw new ElfError(`ELF section header ${i} lies outside the file`);
    return is64
      ? { name: v.getUint32(o, le), type: v.getUint32(o + 4, le), offset: word(o + 0x18), size: word(o + 0x20) }
      : {
          name: v.getUint32(o, le),
          type: v.getUint32(o + 4, le),
          offset: v.getUint32(o + 0x10, le),
          size: v.getUint32(o + 0x14, le),
        };
  };
  if (shnum === 0) shnum = header(0).size; // SHN_UNDEF: real count in section 0's sh_size
  if (shstrndx === 0xffff) shstrndx = v.getUint32(shoff + (is64 ? 0x28 : 0x18), le); // SHN_XINDEX: section 0's sh_link
  if (shoff + shnum * shentsize > len)
    throw new ElfError(`ELF section headers (${shnum}) run past the end of the file`);
  const raw = Array.from({ length: shnum }, (_, i) => header(i));
  const strtab = raw[shstrndx];
  if (!strtab || strtab.offset + strtab.size > len)
    throw new ElfError('ELF section name table is missing or truncated');
  const dec = new TextDecoder('latin1');
  return raw.map((s, i) => {
    if (s.name >= strtab.size) throw new ElfError(`ELF section ${i} has a name offset outside the name table`);
    const start = strtab.offset + s.name;
    let end = bytes.indexOf(0, start);
    if (end < 0 || end > strtab.offset + strtab.size) end = strtab.offset + strtab.size;
    if (s.type !== SHT_NOBITS && s.offset + s.size > len) {
      throw new ElfError(`ELF section ${i} (${dec.decode(bytes.subarray(start, end))}) runs past the end of the file`);
    }
    return { name: dec.decode(bytes.subarray(start, end)), type: s.type, offset: s.offset, size: s.size };
  });
}

/** The contents of the named section (a view, not a copy), or undefined when absent. */
export function elfSection(bytes: Uint8Array, name: string): Uint8Array | undefined {
  const s = elfSections(bytes).find((x) => x.name === name);
  if (!s || s.type === SHT_NOBITS) return undefined;
  return bytes.subarray(s.offset, s.offset + s.size);
}
