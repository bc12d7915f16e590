/**
 * `--output-bpfmap` printing: upstream's text block under the event line (Go's `hex.Dump` of
 * the key and value) and the `bpfmap` object of `--output-json`.
 */
import type { EventBpfMap } from '../event.js';

const HEX = '0123456789abcdef';

/**
 * Go's `encoding/hex.Dump`: 16 bytes a line — an 8-digit offset, the bytes in hex (an extra
 * space after the eighth) and the printable ASCII between bars; empty for no bytes.
 */
export function hexDump(bytes: Uint8Array): string {
  let out = '';
  for (let line = 0; line < bytes.length; line += 16) {
    let s = line.toString(16).padStart(8, '0') + '  ';
    let ascii = '';
    for (let i = 0; i < 16; i++) {
      const at = line + i;
      if (at < bytes.length) {
        const b = bytes[at]!;
        s += HEX[b >> 4]! + HEX[b & 15]! + ' ';
        ascii += b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : '.';
      } else {
        s += '   ';
      }
      if (i === 7) s += ' ';
    }
    out += s + ' |' + ascii + '|\n';
  }
  return out;
}

/**
 * The text block upstream appends to a bpf map function's event line:
 * `\nmap_id: N\nmap_name: NAME\nkey(SIZE):\n<dump>value(SIZE):\n<dump>` (dumps of at most 256
 * bytes; the sizes are the map's). Unlike upstream the name stops at its first NUL, and a
 * delete, or a lookup that found nothing, dumps no value.
 */
export function bpfmapText(m: EventBpfMap): string {
  return `\nmap_id: ${m.id}\nmap_name: ${m.name}\nkey(${m.keySize}):\n${hexDump(m.key)}value(${m.valueSize}):\n${m.value ? hexDump(m.value) : ''}`;
}

/** The `bpfmap` object of `--output-json`: key and value as lowercase hex strings. */
export interface JsonBpfMap {
  id: number;
  name: string;
  key_size: number;
  value_size: number;
  key: string;
  /** Absent for deletes and lookups that found nothing. */
  value?: string;
}

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += HEX[b >> 4]! + HEX[b & 15]!;
  return s;
}

/** The JSON form of an event's map. */
export function bpfmapJson(m: EventBpfMap): JsonBpfMap {
  const out: JsonBpfMap = { id: m.id, name: m.name, key_size: m.keySize, value_size: m.valueSize, key: hex(m.key) };
  if (m.value) out.value = hex(m.value);
  return out;
}
