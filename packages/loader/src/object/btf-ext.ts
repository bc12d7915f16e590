import { ElfError } from '../elf/elf.js';

/** A malformed `.BTF.ext` section. */
export class BtfExtError extends ElfError {}

/** A func_info record: the BTF FUNC describing the function starting at an instruction. */
export interface FuncInfoRecord {
  /** Instruction index in its section. */
  readonly insn: number;
  /** BTF FUNC type id. */
  readonly typeId: number;
}

/** A line_info record: the C source line of an instruction. */
export interface LineInfoRecord {
  /** Instruction index in its section. */
  readonly insn: number;
  /** String offsets (into the object's BTF) of the file name and line text. */
  readonly fileNameOff: number;
  readonly lineOff: number;
  /** line << 10 | column. */
  readonly lineCol: number;
}

/** CO-RE relocation kinds (`enum bpf_core_relo_kind`). */
export const CoreReloKind = {
  FIELD_BYTE_OFFSET: 0,
  FIELD_BYTE_SIZE: 1,
  FIELD_EXISTS: 2,
  FIELD_SIGNED: 3,
  FIELD_LSHIFT_U64: 4,
  FIELD_RSHIFT_U64: 5,
  TYPE_ID_LOCAL: 6,
  TYPE_ID_TARGET: 7,
  TYPE_EXISTS: 8,
  TYPE_SIZE: 9,
  ENUMVAL_EXISTS: 10,
  ENUMVAL_VALUE: 11,
  TYPE_MATCHES: 12,
} as const;

/** A CO-RE relocation record. */
export interface CoreReloRecord {
  /** Instruction index in its section. */
  readonly insn: number;
  /** Local (object BTF) type id of the root type. */
  readonly typeId: number;
  /** Access string, e.g. `0:1:0` (offset into the object's BTF strings, resolved). */
  readonly accessStrOff: number;
  /** {@link CoreReloKind}. */
  readonly kind: number;
}

/** `.BTF.ext` contents, grouped by the section name (already resolved from BTF strings). */
export interface BtfExt {
  readonly funcInfo: ReadonlyMap<string, readonly FuncInfoRecord[]>;
  readonly lineInfo: ReadonlyMap<string, readonly LineInfoRecord[]>;
  readonly coreRelos: ReadonlyMap<string, readonly CoreReloRecord[]>;
}

const MAGIC = 0xeb9f;

/**
 * Parses `.BTF.ext`. `str` resolves a string offset of the object's BTF (section names are
 * stored there). Record offsets in the file are in bytes; they are returned as instruction indexes.
 */
export function parseBtfExt(bytes: Uint8Array, str: (off: number) => string): BtfExt {
  if (bytes.length < 24) throw new BtfExtError(`.BTF.ext is ${bytes.length} bytes, shorter than its header`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint16(0, true) !== MAGIC)
    throw new BtfExtError('.BTF.ext has a bad magic number (not little-endian BTF.ext)');
  const version = v.getUint8(2);
  if (version !== 1) throw new BtfExtError(`.BTF.ext version ${version} is not supported (only 1)`);
  const hdrLen = v.getUint32(4, true);
  if (hdrLen < 24 || hdrLen > bytes.length) throw new BtfExtError(`.BTF.ext header length ${hdrLen} is invalid`);
  const sub = (offAt: number, minRec: number, what: string) => {
    if (offAt + 8 > hdrLen) return undefined;
    const off = v.getUint32(offAt, true);
    const size = v.getUint32(offAt + 4, true);
    if (size === 0) return undefined;
    const start = hdrLen + off;
    if (start + size > bytes.length || start + size < start)
      throw new BtfExtError(`.BTF.ext ${what} runs past the end of the section`);
    if (size < 4) throw new BtfExtError(`.BTF.ext ${what} is too short`);
    const recSize = v.getUint32(start, true);
    if (recSize < minRec || recSize % 4 !== 0 || recSize > 256)
      throw new BtfExtError(`.BTF.ext ${what} record size ${recSize} is invalid`);
    const groups: { sec: string; recs: number[] }[] = [];
    let p = start + 4;
    const end = start + size;
    while (p < end) {
      if (p + 8 > end) throw new BtfExtError(`.BTF.ext ${what} has a truncated section header`);
      const sec = str(v.getUint32(p, true));
      const n = v.getUint32(p + 4, true);
      p += 8;
      if (n === 0) throw new BtfExtError(`.BTF.ext ${what} for ${sec} has no records`);
      if (p + n * recSize > end) throw new BtfExtError(`.BTF.ext ${what} for ${sec} has ${n} records, more than fit`);
      const recs: number[] = [];
      for (let i = 0; i < n; i++, p += recSize) recs.push(p);
      groups.push({ sec, recs });
    }
    return groups;
  };
  const insnOf = (p: number, what: string): number => {
    const off = v.getUint32(p, true);
    if (off % 8 !== 0)
      throw new BtfExtError(`.BTF.ext ${what} record points into the middle of an instruction (byte ${off})`);
    return off / 8;
  };
  const funcInfo = new Map<string, FuncInfoRecord[]>();
  for (const g of sub(8, 8, 'func_info') ?? []) {
    funcInfo.set(
      g.sec,
      g.recs.map((p) => ({ insn: insnOf(p, 'func_info'), typeId: v.getUint32(p + 4, true) })),
    );
  }
  const lineInfo = new Map<string, LineInfoRecord[]>();
  for (const g of sub(16, 16, 'line_info') ?? []) {
    lineInfo.set(
      g.sec,
      g.recs.map((p) => ({
        insn: insnOf(p, 'line_info'),
        fileNameOff: v.getUint32(p + 4, true),
        lineOff: v.getUint32(p + 8, true),
        lineCol: v.getUint32(p + 12, true),
      })),
    );
  }
  const coreRelos = new Map<string, CoreReloRecord[]>();
  for (const g of sub(24, 16, 'CO-RE relocations') ?? []) {
    coreRelos.set(
      g.sec,
      g.recs.map((p) => ({
        insn: insnOf(p, 'CO-RE relocation'),
        typeId: v.getUint32(p + 4, true),
        accessStrOff: v.getUint32(p + 8, true),
        kind: v.getUint32(p + 12, true),
      })),
    );
  }
  return { funcInfo, lineInfo, coreRelos };
}
