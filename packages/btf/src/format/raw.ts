import type { Btf } from '../btf.js';
import { BtfKind } from '../kinds.js';
import { BPFTOOL_KIND_NAMES, intEncoding, linkageName } from './record.js';
import { AsciiWriter } from './writer.js';

const name = (w: AsciiWriter, btf: Btf, off: number): AsciiWriter => w.name(btf, off, '(anon)', '(invalid)');

/** Writes one type in bpftool's raw text format (no trailing newline). */
function writeRawType(w: AsciiWriter, btf: Btf, id: number): void {
  const o = btf.owner(id);
  const p = o.recordOffset(id);
  const info = o.word(p + 4);
  const kind = (info >>> 24) & 0x1f;
  const vlen = info & 0xffff;
  const kflag = info >>> 31 === 1;
  const st = o.word(p + 8);
  const q = p + 12;
  w.text('[')
    .num(id)
    .text(`] ${BPFTOOL_KIND_NAMES[kind] ?? 'UNKNOWN'} '`);
  name(w, o, o.word(p)).text("'");
  switch (kind) {
    case BtfKind.INT: {
      const x = o.word(q);
      w.text(' size=')
        .num(st)
        .text(' bits_offset=')
        .num((x >>> 16) & 0xff)
        .text(' nr_bits=')
        .num(x & 0xff);
      w.text(' encoding=').text(intEncoding((x >>> 24) & 0x0f));
      break;
    }
    case BtfKind.PTR:
    case BtfKind.CONST:
    case BtfKind.VOLATILE:
    case BtfKind.RESTRICT:
    case BtfKind.TYPEDEF:
    case BtfKind.TYPE_TAG:
      w.text(' type_id=').num(st);
      break;
    case BtfKind.ARRAY:
      w.text(' type_id=')
        .num(o.word(q))
        .text(' index_type_id=')
        .num(o.word(q + 4))
        .text(' nr_elems=')
        .num(o.word(q + 8));
      break;
    case BtfKind.STRUCT:
    case BtfKind.UNION:
      w.text(' size=').num(st).text(' vlen=').num(vlen);
      for (let i = 0; i < vlen; i++) {
        const m = q + 12 * i;
        const off = o.word(m + 8);
        const bitSz = kflag ? off >>> 24 : 0;
        name(w.text("\n\t'"), o, o.word(m))
          .text("' type_id=")
          .num(o.word(m + 4));
        w.text(' bits_offset=').num(kflag ? off & 0xffffff : off);
        if (bitSz) w.text(' bitfield_size=').num(bitSz);
      }
      break;
    case BtfKind.ENUM:
      w.text(` encoding=${kflag ? 'SIGNED' : 'UNSIGNED'} size=`)
        .num(st)
        .text(' vlen=')
        .num(vlen);
      for (let i = 0; i < vlen; i++) {
        const e = q + 8 * i;
        const raw = o.word(e + 4);
        name(w.text("\n\t'"), o, o.word(e))
          .text("' val=")
          .num(kflag ? raw | 0 : raw);
      }
      break;
    case BtfKind.ENUM64:
      w.text(` encoding=${kflag ? 'SIGNED' : 'UNSIGNED'} size=`)
        .num(st)
        .text(' vlen=')
        .num(vlen);
      for (let i = 0; i < vlen; i++) {
        const e = q + 12 * i;
        const u = (BigInt(o.word(e + 8)) << 32n) | BigInt(o.word(e + 4));
        name(w.text("\n\t'"), o, o.word(e)).text(`' val=${kflag ? `${BigInt.asIntN(64, u)}LL` : `${u}ULL`}`);
      }
      break;
    case BtfKind.FWD:
      w.text(` fwd_kind=${kflag ? 'union' : 'struct'}`);
      break;
    case BtfKind.FUNC:
      w.text(' type_id=').num(st).text(' linkage=').text(linkageName(vlen));
      break;
    case BtfKind.FUNC_PROTO:
      w.text(' ret_type_id=').num(st).text(' vlen=').num(vlen);
      for (let i = 0; i < vlen; i++) {
        const e = q + 8 * i;
        name(w.text("\n\t'"), o, o.word(e))
          .text("' type_id=")
          .num(o.word(e + 4));
      }
      break;
    case BtfKind.VAR:
      w.text(' type_id=')
        .num(st)
        .text(', linkage=')
        .text(linkageName(o.word(q)));
      break;
    case BtfKind.DATASEC:
      w.text(' size=').num(st).text(' vlen=').num(vlen);
      for (let i = 0; i < vlen; i++) {
        const e = q + 12 * i;
        const t = o.word(e);
        w.text('\n\ttype_id=')
          .num(t)
          .text(' offset=')
          .num(o.word(e + 4))
          .text(' size=')
          .num(o.word(e + 8));
        if (t === 0) w.text(" (UNKNOWN '(anon)')");
        else if (t <= btf.maxTypeId) {
          w.text(` (${BPFTOOL_KIND_NAMES[btf.kindOf(t)]} '`);
          name(w, btf, btf.nameOffOf(t)).text("')");
        }
      }
      break;
    case BtfKind.FLOAT:
      w.text(' size=').num(st);
      break;
    case BtfKind.DECL_TAG:
      w.text(' type_id=')
        .num(st)
        .text(' component_idx=')
        .num(o.word(q) | 0);
      break;
  }
}

/**
 * One type in the text format of `bpftool btf dump file F` (with member/param lines, no newline at
 * the end). Reads the raw record, so dumping does not fill the decoded-type cache.
 */
export function formatRawType(btf: Btf, id: number): string {
  const w = new AsciiWriter(256);
  writeRawType(w, btf, id);
  return w.take();
}

/**
 * Yields `bpftool btf dump file F` text in chunks of many types (for streaming to stdout). Split
 * BTF dumps only its own types, numbered after the base's, as bpftool does with `-B`.
 */
export function* formatRawChunks(btf: Btf, typesPerChunk = 8192): IterableIterator<string> {
  const w = new AsciiWriter(1 << 20);
  let n = 0;
  for (let id = btf.firstTypeId; id <= btf.maxTypeId; id++) {
    writeRawType(w, btf, id);
    w.text('\n');
    if (++n === typesPerChunk) {
      yield w.take();
      n = 0;
    }
  }
  if (w.length) yield w.take();
}

/** The whole text of `bpftool btf dump file F`, byte for byte. */
export function formatRaw(btf: Btf): string {
  return [...formatRawChunks(btf)].join('');
}
