/** Writes minimal ELF files (header, sections, section name table) for tests. */

/** Builds an ELF64 or ELF32 file of either byte order holding the given sections. */
export function makeElf(
  sections: { name: string; data: Uint8Array }[],
  options: { is64?: boolean; le?: boolean; xindex?: boolean } = {},
): Uint8Array {
  const is64 = options.is64 ?? true;
  const le = options.le ?? true;
  const ehsize = is64 ? 64 : 52;
  const shentsize = is64 ? 64 : 40;
  const names = ['', ...sections.map((s) => s.name), '.shstrtab'];
  const nameOffs: number[] = [];
  let strtab = '';
  for (const n of names) {
    nameOffs.push(strtab.length);
    strtab += `${n}\0`;
  }
  const strBytes = Buffer.from(strtab, 'latin1');
  const datas = [new Uint8Array(0), ...sections.map((s) => s.data), strBytes];
  const offsets: number[] = [];
  let pos = ehsize;
  for (const d of datas) {
    offsets.push(pos);
    pos += d.length;
  }
  pos = (pos + 7) & ~7;
  const shoff = pos;
  const out = new Uint8Array(shoff + datas.length * shentsize);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, le ? 1 : 2, 1]);
  if (is64) {
    v.setBigUint64(0x28, BigInt(shoff), le);
    v.setUint16(0x34, ehsize, le);
    v.setUint16(0x3a, shentsize, le);
    v.setUint16(0x3c, datas.length, le);
    v.setUint16(0x3e, options.xindex ? 0xffff : datas.length - 1, le);
  } else {
    v.setUint32(0x20, shoff, le);
    v.setUint16(0x28, ehsize, le);
    v.setUint16(0x2e, shentsize, le);
    v.setUint16(0x30, datas.length, le);
    v.setUint16(0x32, options.xindex ? 0xffff : datas.length - 1, le);
  }
  // SHN_XINDEX: the section-name table's index moves to section 0's sh_link.
  if (options.xindex) v.setUint32(shoff + (is64 ? 0x28 : 0x18), datas.length - 1, le);
  datas.forEach((d, i) => {
    out.set(d, offsets[i]!);
    const h = shoff + i * shentsize;
    v.setUint32(h, nameOffs[i]!, le);
    v.setUint32(h + 4, i === 0 ? 0 : i === datas.length - 1 ? 3 : 1, le);
    if (is64) {
      v.setBigUint64(h + 0x18, BigInt(offsets[i]!), le);
      v.setBigUint64(h + 0x20, BigInt(d.length), le);
    } else {
      v.setUint32(h + 0x10, offsets[i]!, le);
      v.setUint32(h + 0x14, d.length, le);
    }
  });
  return out;
}
