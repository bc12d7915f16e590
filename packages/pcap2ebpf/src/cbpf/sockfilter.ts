/**
 * `struct sock_filter` encoding: 8 bytes per instruction, `u16 code; u8 jt; u8 jf; u32 k;` in
 * host byte order (little-endian here, as on every machine pwru runs on).
 */
import { SockFilterDecodeError } from './errors.js';
import type { CbpfInstruction } from './instruction.js';

/** Size of one `struct sock_filter` in bytes. */
export const SOCK_FILTER_SIZE = 8;

/** Encodes a program as the bytes of a `struct sock_filter[]` (little-endian). */
export function encodeSockFilter(program: readonly CbpfInstruction[]): Uint8Array {
  const out = new Uint8Array(program.length * SOCK_FILTER_SIZE);
  const view = new DataView(out.buffer);
  program.forEach((insn, i) => {
    const at = i * SOCK_FILTER_SIZE;
    view.setUint16(at, insn.code, true);
    view.setUint8(at + 2, insn.jt);
    view.setUint8(at + 3, insn.jf);
    view.setUint32(at + 4, insn.k >>> 0, true);
  });
  return out;
}

/** Decodes the bytes of a `struct sock_filter[]` (little-endian). */
export function decodeSockFilter(bytes: Uint8Array): CbpfInstruction[] {
  if (bytes.length % SOCK_FILTER_SIZE !== 0) {
    throw new SockFilterDecodeError(
      `sock_filter bytes: length ${bytes.length} is not a multiple of ${SOCK_FILTER_SIZE}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const program: CbpfInstruction[] = [];
  for (let at = 0; at < bytes.length; at += SOCK_FILTER_SIZE) {
    program.push({
      code: view.getUint16(at, true),
      jt: view.getUint8(at + 2),
      jf: view.getUint8(at + 3),
      k: view.getUint32(at + 4, true),
    });
  }
  return program;
}
