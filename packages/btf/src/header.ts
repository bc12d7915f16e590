import { BtfError } from './errors.js';

/** `BTF_MAGIC` as read in the blob's own byte order. */
export const BTF_MAGIC = 0xeb9f;

/** Size of the version-1 BTF header; newer producers may write a longer one (`hdrLen`). */
export const BTF_HEADER_MIN_LEN = 24;

/** The parsed `struct btf_header`, with section positions made absolute. */
export interface BtfHeader {
  /** True when the blob is little-endian (detected from the magic). */
  readonly littleEndian: boolean;
  readonly version: number;
  readonly flags: number;
  /** Header length as written; at least 24. */
  readonly hdrLen: number;
  /** Absolute byte offset of the type section in the blob. */
  readonly typeStart: number;
  readonly typeLen: number;
  /** Absolute byte offset of the string section in the blob. */
  readonly strStart: number;
  readonly strLen: number;
}

/**
 * Reads and validates a BTF header: magic (either byte order), version 1, header length, and that
 * both sections lie inside the blob.
 */
export function parseHeader(bytes: Uint8Array): BtfHeader {
  if (bytes.byteLength < BTF_HEADER_MIN_LEN) {
    throw new BtfError(`blob of ${bytes.byteLength} bytes is too short for a BTF header (24 bytes)`, 0);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magicLe = view.getUint16(0, true);
  let littleEndian: boolean;
  if (magicLe === BTF_MAGIC) littleEndian = true;
  else if (view.getUint16(0, false) === BTF_MAGIC) littleEndian = false;
  else {
    throw new BtfError(
      `bad BTF magic 0x${magicLe.toString(16).padStart(4, '0')} (expected 0xeb9f in either byte order)`,
      0,
    );
  }
  const version = view.getUint8(2);
  if (version !== 1) throw new BtfError(`unsupported BTF version ${version} (expected 1)`, 2);
  const flags = view.getUint8(3);
  const hdrLen = view.getUint32(4, littleEndian);
  if (hdrLen < BTF_HEADER_MIN_LEN || hdrLen > bytes.byteLength) {
    throw new BtfError(`BTF header length ${hdrLen} is outside 24..${bytes.byteLength}`, 4);
  }
  const typeOff = view.getUint32(8, littleEndian);
  const typeLen = view.getUint32(12, littleEndian);
  const strOff = view.getUint32(16, littleEndian);
  const strLen = view.getUint32(20, littleEndian);
  const dataLen = bytes.byteLength - hdrLen;
  if (typeOff % 4 !== 0) throw new BtfError(`type section offset ${typeOff} is not 4-byte aligned`, 8);
  if (typeOff + typeLen > dataLen) {
    throw new BtfError(`type section ${typeOff}+${typeLen} runs past the end of the data (${dataLen} bytes)`, 8);
  }
  if (strOff + strLen > dataLen) {
    throw new BtfError(`string section ${strOff}+${strLen} runs past the end of the data (${dataLen} bytes)`, 16);
  }
  if (typeLen > 0 && strLen > 0 && typeOff < strOff + strLen && strOff < typeOff + typeLen) {
    throw new BtfError('type and string sections overlap', 8);
  }
  return {
    littleEndian,
    version,
    flags,
    hdrLen,
    typeStart: hdrLen + typeOff,
    typeLen,
    strStart: hdrLen + strOff,
    strLen,
  };
}
