import type { Btf } from '../btf.js';
import { BtfKind } from '../kinds.js';
import { BPFTOOL_KIND_NAMES, dumpName, intEncoding, linkageName } from './record.js';

/**
 * One type in the text format of `bpftool btf dump file F` (with member/param lines, no newline at
 * the end). Reads the raw record, so dumping does not fill the decoded-type cache.
 */
export function formatRawType(btf: Btf, id: number): string {
  const o = btf.owner(id);
  const v = o.view;
  const le = o.le;
  const p = o.recordOffset(id);
  const info = v.getUint32(p + 4, le);
  const kind = (info >>> 24) & 0x1f;
  const vlen = info & 0xffff;
  const kflag = info >>> 31 === 1;
  const st = v.getUint32(p + 8, le);
  const q = p + 12;
  let s = `[${id}] ${BPFTOOL_KIND_NAMES[kind] ?? 'UNKNOWN'} '${dumpName(o, v.getUint32(p, le))}'`;
  switch (kind) {
    case BtfKind.INT: {
      const w = v.getUint32(q, le);
      s += ` size=${st} bits_offset=${(w >>> 16) & 0xff} nr_bits=${w & 0xff} encoding=${intEncoding((w >>> 24) & 0x0f)}`;
      break;
    }
    case BtfKind.PTR:
    case BtfKind.CONST:
    case BtfKind.VOLATILE:
    case BtfKind.RESTRICT:
    case BtfKind.TYPEDEF:
    case BtfKind.TYPE_TAG:
      s += ` type_id=${st}`;
      break;
    case BtfKind.ARRAY:
      s += ` type_id=${v.getUint32(q, le)} index_type_id=${v.getUint32(q + 4, le)} nr_elems=${v.getUint32(q + 8, le)}`;
      break;
    case BtfKind.STRUCT:
    case BtfKind.UNION:
      s += ` size=${st} vlen=${vlen}`;
      for (let i = 0; i < vlen; i++) {
        const m = q + 12 * i;
        const off = v.getUint32(m + 8, le);
        const bitOff = kflag ? off & 0xffffff : off;
        const bitSz = kflag ? off >>> 24 : 0;
        s += `\n\t'${dumpName(o, v.getUint32(m, le))}' type_id=${v.getUint32(m + 4, le)} bits_offset=${bitOff}`;
        if (bitSz) s += ` bitfield_size=${bitSz}`;
      }
      break;
    case BtfKind.ENUM:
      s += ` encoding=${kflag ? 'SIGNED' : 'UNSIGNED'} size=${st} vlen=${vlen}`;
      for (let i = 0; i < vlen; i++) {
        const e = q + 8 * i;
        s += `\n\t'${dumpName(o, v.getUint32(e, le))}' val=${kflag ? v.getInt32(e + 4, le) : v.getUint32(e + 4, le)}`;
      }
      break;
    case BtfKind.ENUM64:
      s += ` encoding=${kflag ? 'SIGNED' : 'UNSIGNED'} size=${st} vlen=${vlen}`;
      for (let i = 0; i < vlen; i++) {
        const e = q + 12 * i;
        const u = (BigInt(v.getUint32(e + 8, le)) << 32n) | BigInt(v.getUint32(e + 4, le));
        s += `\n\t'${dumpName(o, v.getUint32(e, le))}' val=${kflag ? `${BigInt.asIntN(64, u)}LL` : `${u}ULL`}`;
      }
      break;
    case BtfKind.FWD:
      s += ` fwd_kind=${kflag ? 'union' : 'struct'}`;
      break;
    case BtfKind.FUNC:
      s += ` type_id=${st} linkage=${linkageName(vlen)}`;
      break;
    case BtfKind.FUNC_PROTO:
      s += ` ret_type_id=${st} vlen=${vlen}`;
      for (let i = 0; i < vlen; i++) {
        const e = q + 8 * i;
        s += `\n\t'${dumpName(o, v.getUint32(e, le))}' type_id=${v.getUint32(e + 4, le)}`;
      }
      break;
    case BtfKind.VAR:
      s += ` type_id=${st}, linkage=${linkageName(v.getUint32(q, le))}`;
      break;
    case BtfKind.DATASEC:
      s += ` size=${st} vlen=${vlen}`;
      for (let i = 0; i < vlen; i++) {
        const e = q + 12 * i;
        const t = v.getUint32(e, le);
        s += `\n\ttype_id=${t} offset=${v.getUint32(e + 4, le)} size=${v.getUint32(e + 8, le)}`;
        if (t <= btf.maxTypeId) {
          s += t === 0 ? " (UNKNOWN '(anon)')" : ` (${BPFTOOL_KIND_NAMES[btf.kindOf(t)]} '${dumpName(btf, btf.nameOffOf(t))}')`;
        }
      }
      break;
    case BtfKind.FLOAT:
      s += ` size=${st}`;
      break;
    case BtfKind.DECL_TAG:
      s += ` type_id=${st} component_idx=${v.getInt32(q, le)}`;
      break;
  }
  return s;
}

/**
 * Yields `bpftool btf dump file F` text in chunks of many types (for streaming to stdout). Split
 * BTF dumps only its own types, numbered after the base's, as bpftool does with `-B`.
 */
export function* formatRawChunks(btf: Btf, typesPerChunk = 4096): IterableIterator<string> {
  let parts: string[] = [];
  for (let id = btf.firstTypeId; id <= btf.maxTypeId; id++) {
    parts.push(formatRawType(btf, id));
    if (parts.length === typesPerChunk) {
      yield `${parts.join('\n')}\n`;
      parts = [];
    }
  }
  if (parts.length) yield `${parts.join('\n')}\n`;
}

/** The whole text of `bpftool btf dump file F`, byte for byte. */
export function formatRaw(btf: Btf): string {
  return [...formatRawChunks(btf)].join('');
}
