import type { Btf } from '../btf.js';
import { BtfKind } from '../kinds.js';
import { BPFTOOL_KIND_NAMES, dumpName, intEncoding, linkageName } from './record.js';

/** A JSON string the way bpftool's json_writer escapes it. */
function q(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    switch (c) {
      case '\t':
        out += '\\t';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\f':
        out += '\\f';
        break;
      case '\b':
        out += '\\b';
        break;
      case '\\':
        out += '\\\\';
        break;
      case '"':
        out += '\\"';
        break;
      default:
        out += c;
    }
  }
  return `${out}"`;
}

/** One type as an object of `bpftool -j btf dump file F`'s `types` array. */
export function formatJsonType(btf: Btf, id: number): string {
  const o = btf.owner(id);
  const v = o.view;
  const le = o.le;
  const p = o.recordOffset(id);
  const info = v.getUint32(p + 4, le);
  const kind = (info >>> 24) & 0x1f;
  const vlen = info & 0xffff;
  const kflag = info >>> 31 === 1;
  const st = v.getUint32(p + 8, le);
  const r = p + 12;
  let s = `{"id":${id},"kind":"${BPFTOOL_KIND_NAMES[kind] ?? 'UNKNOWN'}","name":${q(dumpName(o, v.getUint32(p, le)))}`;
  const items = (body: string[]): string => `[${body.join(',')}]`;
  switch (kind) {
    case BtfKind.INT: {
      const w = v.getUint32(r, le);
      s += `,"size":${st},"bits_offset":${(w >>> 16) & 0xff},"nr_bits":${w & 0xff},"encoding":"${intEncoding((w >>> 24) & 0x0f)}"`;
      break;
    }
    case BtfKind.PTR:
    case BtfKind.CONST:
    case BtfKind.VOLATILE:
    case BtfKind.RESTRICT:
    case BtfKind.TYPEDEF:
    case BtfKind.TYPE_TAG:
      s += `,"type_id":${st}`;
      break;
    case BtfKind.ARRAY:
      s += `,"type_id":${v.getUint32(r, le)},"index_type_id":${v.getUint32(r + 4, le)},"nr_elems":${v.getUint32(r + 8, le)}`;
      break;
    case BtfKind.STRUCT:
    case BtfKind.UNION: {
      const ms: string[] = [];
      for (let i = 0; i < vlen; i++) {
        const m = r + 12 * i;
        const off = v.getUint32(m + 8, le);
        const bitSz = kflag ? off >>> 24 : 0;
        ms.push(
          `{"name":${q(dumpName(o, v.getUint32(m, le)))},"type_id":${v.getUint32(m + 4, le)},"bits_offset":${kflag ? off & 0xffffff : off}` +
            `${bitSz ? `,"bitfield_size":${bitSz}` : ''}}`,
        );
      }
      s += `,"size":${st},"vlen":${vlen},"members":${items(ms)}`;
      break;
    }
    case BtfKind.ENUM: {
      const vs: string[] = [];
      for (let i = 0; i < vlen; i++) {
        const e = r + 8 * i;
        vs.push(
          `{"name":${q(dumpName(o, v.getUint32(e, le)))},"val":${kflag ? v.getInt32(e + 4, le) : v.getUint32(e + 4, le)}}`,
        );
      }
      s += `,"encoding":"${kflag ? 'SIGNED' : 'UNSIGNED'}","size":${st},"vlen":${vlen},"values":${items(vs)}`;
      break;
    }
    case BtfKind.ENUM64: {
      const vs: string[] = [];
      for (let i = 0; i < vlen; i++) {
        const e = r + 12 * i;
        const u = (BigInt(v.getUint32(e + 8, le)) << 32n) | BigInt(v.getUint32(e + 4, le));
        vs.push(`{"name":${q(dumpName(o, v.getUint32(e, le)))},"val":${kflag ? BigInt.asIntN(64, u) : u}}`);
      }
      s += `,"encoding":"${kflag ? 'SIGNED' : 'UNSIGNED'}","size":${st},"vlen":${vlen},"values":${items(vs)}`;
      break;
    }
    case BtfKind.FWD:
      s += `,"fwd_kind":"${kflag ? 'union' : 'struct'}"`;
      break;
    case BtfKind.FUNC:
      s += `,"type_id":${st},"linkage":"${linkageName(vlen)}"`;
      break;
    case BtfKind.FUNC_PROTO: {
      const ps: string[] = [];
      for (let i = 0; i < vlen; i++) {
        const e = r + 8 * i;
        ps.push(`{"name":${q(dumpName(o, v.getUint32(e, le)))},"type_id":${v.getUint32(e + 4, le)}}`);
      }
      s += `,"ret_type_id":${st},"vlen":${vlen},"params":${items(ps)}`;
      break;
    }
    case BtfKind.VAR:
      s += `,"type_id":${st},"linkage":"${linkageName(v.getUint32(r, le))}"`;
      break;
    case BtfKind.DATASEC: {
      const vs: string[] = [];
      for (let i = 0; i < vlen; i++) {
        const e = r + 12 * i;
        vs.push(
          `{"type_id":${v.getUint32(e, le)},"offset":${v.getUint32(e + 4, le)},"size":${v.getUint32(e + 8, le)}}`,
        );
      }
      s += `,"size":${st},"vlen":${vlen},"vars":${items(vs)}`;
      break;
    }
    case BtfKind.FLOAT:
      s += `,"size":${st}`;
      break;
    case BtfKind.DECL_TAG:
      s += `,"type_id":${st},"component_idx":${v.getInt32(r, le)}`;
      break;
  }
  return `${s}}`;
}

/** Yields the text of `bpftool -j btf dump file F` in chunks (split BTF: its own types only). */
export function* formatJsonChunks(btf: Btf, typesPerChunk = 4096): IterableIterator<string> {
  yield '{"types":[';
  let parts: string[] = [];
  let first = true;
  for (let id = btf.firstTypeId; id <= btf.maxTypeId; id++) {
    parts.push(formatJsonType(btf, id));
    if (parts.length === typesPerChunk) {
      yield (first ? '' : ',') + parts.join(',');
      first = false;
      parts = [];
    }
  }
  yield `${parts.length ? (first ? '' : ',') + parts.join(',') : ''}]}\n`;
}

/** The whole text of `bpftool -j btf dump file F`: `{"types":[...]}` (parse it with `JSON.parse`). */
export function formatJson(btf: Btf): string {
  return [...formatJsonChunks(btf)].join('');
}
