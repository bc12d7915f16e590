/**
 * The text of a pwru packet record's two options, encoded straight into the pcapng batch:
 * the `opt_comment` line and the `--output-json` object of the custom option. What repeats from
 * event to event (a function's name with its drop reason, a process, an interface) is encoded
 * once and copied; addresses and numbers are written digit by digit. The bytes are exactly
 * those of {@link commentText} and of `JsonPrinter.format` (without its newline), which stay the
 * path for what is rare (return events, dumps, conntrack, netfilter, the extra JSON switches).
 */
import {
  decodeEvent,
  EventKind,
  type EventMeta,
  type EventTuple,
  eventLayout,
  isTrackedOnly,
  type PwruEvent,
} from '../../event.js';
import type { EventWire } from '../../wire/section.js';
import { hex64 } from '../columns.js';
import { dropReasonValue, FuncNameCache, type OutputContext, withDropReason } from '../context.js';
import { JsonPrinter } from '../json.js';
import type { OutputOptions } from '../options.js';
import { ProcessNames } from '../process-names.js';
import { returnValueOf } from '../retval.js';
import { formatTuple, protoName, tcpFlagsString } from '../tuple.js';
import { MAX_NUMBER_BYTES, putBytes, putHex32, putHex64, putText, putUint, utf8Bytes } from './bytes.js';
import { OPTION } from './format.js';
import { closeOption, openOption, type PcapngWriter } from './writer.js';

/** A JSON string literal's bytes. */
function jsonLiteral(s: string): Uint8Array {
  return utf8Bytes(JSON.stringify(s));
}

/** A function (with its drop reason) as the comment and the JSON show it. */
interface FuncText {
  readonly comment: Uint8Array;
  readonly json: Uint8Array;
}

/** A process as the comment (` process=NAME`) and the JSON (`,"process":"NAME","func":`) show it. */
interface ProcessText {
  readonly comment: Uint8Array;
  readonly json: Uint8Array;
}

/** A device of a netns as the comment and the JSON show it, around the mark and the protocol. */
interface DeviceText {
  readonly netns: number;
  readonly ifindex: number;
  /** ` netns=N mark=0x` */
  readonly commentHead: Uint8Array;
  /** ` iface=NAME:IDX len=` (` iface=IDX len=` while unnamed) */
  readonly commentTail: Uint8Array;
  /** `,"netns":N,"mark":` */
  readonly jsonHead: Uint8Array;
  /** `,"iface":"NAME:IDX","proto":` */
  readonly jsonIface: Uint8Array;
  /** The four fragments' bytes. */
  readonly size: number;
}

/**
 * Event fields this encoder knows: those it writes, and those it leaves to the string path.
 * A field added to events later is not among them: events carrying one take the string path
 * (which prints it), until the encoder learns it.
 */
const KNOWN_FIELDS = new Set([
  'skb',
  'addr',
  'ts',
  'p2',
  'p3',
  'pid',
  'comm',
  'flags',
  'cpu',
  'site',
  'kind',
  'meta',
  'tuple',
  'wire',
  // Printed only with switches that send every event down the string path.
  'cb',
  'tunnel',
  'stackId',
  'caller',
  // Not in the JSON (the text output's --output-skb-metadata).
  'metadata',
  // Return events, dumps, bpf maps, conntrack and netfilter take the string path.
  'retval',
  'skbDump',
  'shinfoDump',
  'bpfmap',
  'ct',
  'netfilter',
]);

/** Fields of decoded events (a zeroed record decodes with every field present) that {@link KNOWN_FIELDS} lacks. */
export function unknownEventFields(): string[] {
  const layout = eventLayout({ meta: false, cb: false, tuple: false, tunnel: false, stack: false, caller: false });
  const sample = decodeEvent(new DataView(new ArrayBuffer(layout.size)), 0, layout);
  return Object.keys(sample).filter((k) => !KNOWN_FIELDS.has(k));
}

const ascii = (s: string): Uint8Array => utf8Bytes(s);

const C_SKB = ascii(' skb=');
const C_CPU = ascii(' cpu=');
const J_SKB = ascii('{"skb":"');
const J_CPU = ascii('","cpu":');
const J_TRACKED = ascii(',"tracked_only":true');
const J_TIME = ascii(',"time":');
const J_PROTO = ascii(',"proto":');
const J_MTU = ascii(',"mtu":');
const J_LEN = ascii(',"len":');
const J_SADDR = ascii(',"tuple":{"saddr":"');
const J_DADDR = ascii('","daddr":"');
const J_SPORT = ascii('","sport":');
const J_DPORT = ascii(',"dport":');
const J_FLAGS = ascii(',"flags":"');
const J_IP_ID = ascii(',"ip_id":');
const J_IP_LEN = ascii(',"ip_len":');
const J_SEQ = ascii(',"seq":');
const J_ACK = ascii(',"ack":');
const J_DATA_HASH = ascii(',"data_hash":"');

/** Upstream's protocol names (`tcp`, `udp`, ...) by number, with the tuple's `(`. */
const PROTO_OPEN: Uint8Array[] = Array.from({ length: 256 }, (_, l4) => ascii('(' + protoName(l4)));
/** `:SYN|ACK` by TCP flags byte (empty for none). */
const FLAG_WORDS: Uint8Array[] = Array.from({ length: 256 }, (_, f) => ascii(f === 0 ? '' : ':' + tcpFlagsString(f)));
/** `SYN|ACK` by TCP flags byte. */
const FLAG_NAMES: Uint8Array[] = Array.from({ length: 256 }, (_, f) => ascii(tcpFlagsString(f)));

/**
 * Where the comment's numbers and addresses start and end in the batch (start, end pairs), so
 * the JSON copies their digits instead of converting them again: both options show the skb,
 * the cpu, the length, the addresses and the ports in the same spelling.
 */
const AT_SKB = 0;
const AT_CPU = 2;
const AT_LEN = 4;
const AT_SADDR = 6;
const AT_SPORT = 8;
const AT_DADDR = 10;
const AT_DPORT = 12;
const marks = new Int32Array(14);

/**
 * The bytes of the address last written in one slot of the tuple: a flow's events repeat their
 * addresses, so comparing the string (a memcmp) and copying beats encoding it again.
 */
class AddressBytes {
  private text = '';
  private bytes: Uint8Array = new Uint8Array(0);

  /** Writes `s` (an ASCII address) at `at`. */
  put(buf: Buffer, at: number, s: string): number {
    if (s !== this.text) {
      this.text = s;
      this.bytes = utf8Bytes(s);
    }
    const b = this.bytes;
    const n = b.length;
    for (let i = 0; i < n; i++) buf[at + i] = b[i]!;
    return at + n;
  }
}

/** Copies the comment's bytes from `marks[k]` to `marks[k + 1]` to `at`. */
function copyMark(buf: Buffer, at: number, k: number): number {
  const end = marks[k + 1]!;
  for (let i = marks[k]!; i < end; i++) buf[at++] = buf[i]!;
  return at;
}

/** `,"netns":...,"len":N` as the JSON output writes it (the length copied from the comment). */
function putJsonMeta(buf: Buffer, at: number, m: EventMeta, device: DeviceText): number {
  at = putBytes(buf, at, device.jsonHead);
  at = putUint(buf, at, m.mark);
  at = putBytes(buf, at, device.jsonIface);
  at = putUint(buf, at, m.proto);
  at = putBytes(buf, at, J_MTU);
  at = putUint(buf, at, m.mtu);
  at = putBytes(buf, at, J_LEN);
  return copyMark(buf, at, AT_LEN);
}

/** The wire ids' keys of the tuple object (`,"ip_id":1,"ip_len":60,...`) as the JSON output writes them. */
function putWireKeys(buf: Buffer, at: number, w: EventWire): number {
  if (w.ipId !== undefined) {
    at = putBytes(buf, at, J_IP_ID);
    at = putUint(buf, at, w.ipId);
  }
  at = putBytes(buf, at, J_IP_LEN);
  at = putUint(buf, at, w.ipLen);
  if (w.seq !== undefined) {
    at = putBytes(buf, at, J_SEQ);
    at = putUint(buf, at, w.seq);
    at = putBytes(buf, at, J_ACK);
    at = putUint(buf, at, w.ack ?? 0);
  }
  if (w.dataHash !== undefined) {
    at = putBytes(buf, at, J_DATA_HASH);
    at = putText(buf, at, w.dataHash);
    buf[at++] = 34; // "
  }
  return at;
}

/** Writes the comment and JSON option text of pwru's packet records. */
export class EventOptionEncoder {
  private readonly funcNames = new FuncNameCache();
  /** By the function's name, then (for sites with one) by drop reason value. */
  private readonly funcs = new Map<string, FuncText>();
  private readonly funcsByReason = new Map<string, Map<number, FuncText>>();
  private readonly processes: ProcessNames<ProcessText>;
  /** By netns, then ifindex: devices whose name is known. */
  private readonly devices = new Map<number, Map<number, DeviceText>>();
  private lastDevice: DeviceText | undefined;
  private readonly saddr = new AddressBytes();
  private readonly daddr = new AddressBytes();
  /** The string path, and the reference the bytes match. */
  private readonly json: JsonPrinter;
  /** Whether the JSON switches are those the byte path writes (meta, tuple, TCP flags, netns names). */
  private readonly plainJson: boolean;
  private readonly unknownFields: readonly string[];

  constructor(
    private readonly ctx: OutputContext,
    private readonly output: OutputOptions,
  ) {
    // The custom option's JSON always carries the raw ktime (rebuilding any --timestamp from it).
    this.json = new JsonPrinter({ ...output, timestamp: 'current' }, ctx);
    this.processes = new ProcessNames(
      (pid, comm) => ctx.processName(pid, comm),
      (name) => ({
        comment: utf8Bytes(' process=' + name),
        json: utf8Bytes(',"process":' + JSON.stringify(name) + ',"func":'),
      }),
    );
    this.plainJson = !output.outputCaller && !output.outputSkbCb && !output.outputTunnel && !output.outputStack;
    this.unknownFields = unknownEventFields();
  }

  /** The comment as a string (the path of return events). */
  commentText(ev: PwruEvent): string {
    const ctx = this.ctx;
    const base = this.funcNames.base(ev, ctx);
    let s =
      ev.kind === EventKind.Return
        ? base + ' = ' + returnValueOf(base, ev, ctx.returns).text
        : withDropReason(base, ev, ctx);
    s +=
      ' skb=' + hex64(ev.skb.hi, ev.skb.lo) + ' cpu=' + ev.cpu + ' process=' + ctx.processName(ev.pid, ev.comm ?? '');
    const m = ev.meta;
    if (m) {
      const name = ctx.ifaceName(m.netns, m.ifindex);
      s +=
        ' netns=' +
        m.netns +
        ' mark=0x' +
        m.mark.toString(16) +
        (name === undefined ? ' iface=' + m.ifindex : ` iface=${name}:${m.ifindex}`) +
        ' len=' +
        m.len;
    }
    if (ev.tuple && ev.tuple.l3 !== 0) s += ' ' + formatTuple(ev.tuple, this.output.outputTcpFlags);
    return s;
  }

  /** The event's JSON object as a string (without newline), `time` its raw ktime. */
  jsonText(ev: PwruEvent): string {
    const json = this.json.format(ev);
    return json.endsWith('\n') ? json.slice(0, -1) : json;
  }

  /** Writes the two options of `ev`'s packet record (the packet's block is open in `w`). */
  writeOptions(w: PcapngWriter, ev: PwruEvent): void {
    const out = w.out;
    if (ev.kind === EventKind.Return) {
      w.beginOption(OPTION.comment);
      out.text(this.commentText(ev));
      w.endOption();
      w.beginOption(OPTION.customString);
      out.text(this.jsonText(ev));
      w.endOption();
      return;
    }
    const func = this.func(ev);
    const proc = this.processes.get(ev.pid, ev.comm);
    const m = ev.meta;
    const device = m ? this.device(m.netns, m.ifindex) : undefined;
    const t = ev.tuple;
    const tupleText = t ? t.saddr.length + t.daddr.length : 0;
    // Room for everything below: fragments, numbers, both tuples' addresses, options' heads.
    out.ensure(
      func.comment.length +
        func.json.length +
        proc.comment.length +
        proc.json.length +
        (device ? device.size : 0) +
        tupleText * 6 +
        26 * MAX_NUMBER_BYTES +
        400,
    );
    const buf = out.buf;
    const comment = out.len;
    let at = this.putComment(buf, openOption(buf, comment, OPTION.comment), ev, func, proc, device);
    at = closeOption(buf, comment, at);
    if (!this.bytePath(ev)) {
      out.len = at;
      w.beginOption(OPTION.customString);
      out.text(this.jsonText(ev));
      w.endOption();
      return;
    }
    const json = at;
    at = this.putJsonHead(buf, openOption(buf, json, OPTION.customString), ev, func, proc);
    const o = this.output;
    if (o.outputMeta && m && device) at = putJsonMeta(buf, at, m, device);
    if (o.outputTuple && t) at = this.putTupleObject(buf, at, t, ev.wire);
    buf[at++] = 125; // }
    out.len = closeOption(buf, json, at);
  }

  /** The comment line (hot path: split from its caller so that the `put*` calls inline). */
  private putComment(
    buf: Buffer,
    at: number,
    ev: PwruEvent,
    func: FuncText,
    proc: ProcessText,
    device: DeviceText | undefined,
  ): number {
    at = putBytes(buf, at, func.comment);
    at = putBytes(buf, at, C_SKB);
    marks[AT_SKB] = at;
    at = putHex64(buf, at, ev.skb.hi, ev.skb.lo);
    marks[AT_SKB + 1] = at;
    at = putBytes(buf, at, C_CPU);
    marks[AT_CPU] = at;
    at = putUint(buf, at, ev.cpu);
    marks[AT_CPU + 1] = at;
    at = putBytes(buf, at, proc.comment);
    const m = ev.meta;
    if (m && device) {
      at = putBytes(buf, at, device.commentHead);
      at = putHex32(buf, at, m.mark, 1);
      at = putBytes(buf, at, device.commentTail);
      marks[AT_LEN] = at;
      at = putUint(buf, at, m.len);
      marks[AT_LEN + 1] = at;
    }
    const t = ev.tuple;
    if (t && t.l3 !== 0) at = this.putTupleWords(buf, at, t);
    return at;
  }

  /** `{"skb":...` up to `"time"`. */
  private putJsonHead(buf: Buffer, at: number, ev: PwruEvent, func: FuncText, proc: ProcessText): number {
    at = putBytes(buf, at, J_SKB);
    at = copyMark(buf, at, AT_SKB);
    at = putBytes(buf, at, J_CPU);
    at = copyMark(buf, at, AT_CPU);
    at = putBytes(buf, at, proc.json);
    at = putBytes(buf, at, func.json);
    if (isTrackedOnly(ev)) at = putBytes(buf, at, J_TRACKED);
    at = putBytes(buf, at, J_TIME);
    return putUint(buf, at, ev.ts);
  }

  /** The tuple as the comment shows it: ` 10.0.0.1:4000->10.0.0.2:80(tcp[:SYN])`. */
  private putTupleWords(buf: Buffer, at: number, t: EventTuple): number {
    const v6 = t.l3 === 0x86dd;
    buf[at++] = 32; // space
    if (v6) buf[at++] = 91; // [
    marks[AT_SADDR] = at;
    at = this.saddr.put(buf, at, t.saddr);
    marks[AT_SADDR + 1] = at;
    if (v6) buf[at++] = 93; // ]
    buf[at++] = 58; // :
    marks[AT_SPORT] = at;
    at = putUint(buf, at, t.sport);
    marks[AT_SPORT + 1] = at;
    buf[at++] = 45; // -
    buf[at++] = 62; // >
    if (v6) buf[at++] = 91;
    marks[AT_DADDR] = at;
    at = this.daddr.put(buf, at, t.daddr);
    marks[AT_DADDR + 1] = at;
    if (v6) buf[at++] = 93;
    buf[at++] = 58;
    marks[AT_DPORT] = at;
    at = putUint(buf, at, t.dport);
    marks[AT_DPORT + 1] = at;
    at = putBytes(buf, at, PROTO_OPEN[t.l4 & 255]!);
    if (this.output.outputTcpFlags && t.l4 === 6) at = putBytes(buf, at, FLAG_WORDS[t.flags & 255]!);
    buf[at++] = 41; // )
    return at;
  }

  /** `,"tuple":{...}` as the JSON output writes it. */
  private putTupleObject(buf: Buffer, at: number, t: EventTuple, w: EventWire | undefined): number {
    // The comment showed the tuple's addresses and ports unless its l3 is 0.
    const shown = t.l3 !== 0;
    at = putBytes(buf, at, J_SADDR);
    at = shown ? copyMark(buf, at, AT_SADDR) : putText(buf, at, t.saddr);
    at = putBytes(buf, at, J_DADDR);
    at = shown ? copyMark(buf, at, AT_DADDR) : putText(buf, at, t.daddr);
    at = putBytes(buf, at, J_SPORT);
    at = shown ? copyMark(buf, at, AT_SPORT) : putUint(buf, at, t.sport);
    at = putBytes(buf, at, J_DPORT);
    at = shown ? copyMark(buf, at, AT_DPORT) : putUint(buf, at, t.dport);
    at = putBytes(buf, at, J_PROTO);
    at = putUint(buf, at, t.l4);
    if (this.output.outputTcpFlags) {
      at = putBytes(buf, at, J_FLAGS);
      if (t.l4 === 6) at = putBytes(buf, at, FLAG_NAMES[t.flags & 255]!);
      buf[at++] = 34; // "
    }
    if (w !== undefined) at = putWireKeys(buf, at, w);
    buf[at++] = 125; // }
    return at;
  }

  /** Whether the byte path writes everything the JSON of `ev` holds (else the string path does). */
  bytePath(ev: PwruEvent): boolean {
    if (
      !this.plainJson ||
      ev.kind === EventKind.Return ||
      ev.shinfoDump !== undefined ||
      ev.skbDump !== undefined ||
      ev.bpfmap !== undefined ||
      ev.ct !== undefined ||
      ev.netfilter !== undefined ||
      (this.output.outputNetnsNames && ev.meta !== undefined && this.ctx.netnsName(ev.meta.netns) !== undefined)
    )
      return false;
    const unknown = this.unknownFields;
    for (let i = 0; i < unknown.length; i++) {
      if ((ev as unknown as Record<string, unknown>)[unknown[i]!] !== undefined) return false;
    }
    return true;
  }

  /** The function of a (non-return) event, with its drop reason. */
  private func(ev: PwruEvent): FuncText {
    const ctx = this.ctx;
    const base = this.funcNames.base(ev, ctx);
    const reason = dropReasonValue(base, ev, ctx);
    if (reason === undefined) {
      let f = this.funcs.get(base);
      if (f === undefined) {
        f = { comment: utf8Bytes(base), json: jsonLiteral(base) };
        this.funcs.set(base, f);
      }
      return f;
    }
    let byReason = this.funcsByReason.get(base);
    if (byReason === undefined) this.funcsByReason.set(base, (byReason = new Map()));
    let f = byReason.get(reason);
    if (f === undefined) {
      const name = withDropReason(base, ev, ctx);
      f = { comment: utf8Bytes(name), json: jsonLiteral(name) };
      byReason.set(reason, f);
    }
    return f;
  }

  /** A device's text: kept once its name is known (asked again for each event until then). */
  private device(netns: number, ifindex: number): DeviceText {
    const last = this.lastDevice;
    if (last !== undefined && last.netns === netns && last.ifindex === ifindex) return last;
    let byIndex = this.devices.get(netns);
    const hit = byIndex?.get(ifindex);
    if (hit !== undefined) return (this.lastDevice = hit);
    const name = this.ctx.ifaceName(netns, ifindex);
    const word = name === undefined ? String(ifindex) : `${name}:${ifindex}`;
    const commentHead = utf8Bytes(` netns=${netns} mark=0x`);
    const commentTail = utf8Bytes(` iface=${word} len=`);
    const jsonHead = utf8Bytes(`,"netns":${netns},"mark":`);
    const jsonIface = utf8Bytes(`,"iface":${JSON.stringify(word)},"proto":`);
    const size = commentHead.length + commentTail.length + jsonHead.length + jsonIface.length;
    const text: DeviceText = { netns, ifindex, commentHead, commentTail, jsonHead, jsonIface, size };
    if (name !== undefined) {
      if (!byIndex) this.devices.set(netns, (byIndex = new Map()));
      byIndex.set(ifindex, text);
      this.lastDevice = text;
    }
    return text;
  }
}
