import { ProcessNames } from './process-names.js';
import { EventKind, type EventTuple, isTrackedOnly, type PwruEvent } from '../event.js';
import { hex64 } from './columns.js';
import { absoluteTime, funcName, FuncNameCache, type OutputContext, withDropReason } from './context.js';
import type { OutputOptions } from './options.js';
import { tcpFlagsString } from './tuple.js';
import { returnValueOf } from './retval.js';
import { bpfmapJson, type JsonBpfMap } from './bpfmap.js';
import { ctJson, type JsonCt } from '../ct/names.js';
import { netfilterJson, type JsonNetfilter } from '../netfilter/names.js';
import type { EventWire } from '../wire/section.js';

/** The `tuple` / `tunnel_tuple` object of `--output-json`. */
export interface JsonTuple {
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  proto: number;
  flags?: string;
  /** IPv4 identification (from here on: the wire ids of `wire/section.ts`, with `--output-json`). */
  ip_id?: number;
  /** IP packet length, headers included. */
  ip_len?: number;
  /** TCP sequence number. */
  seq?: number;
  /** TCP acknowledgement number. */
  ack?: number;
  /** FNV-1a of the first payload bytes (`wire/section.ts`: `dataHash`), 8 hex digits. */
  data_hash?: string;
}

/**
 * One `--output-json` record, keys in upstream's order. Unlike upstream (Go `omitempty` on every
 * field), a requested field is always present, even when it is zero (`"cpu":0`, `"mark":0`).
 */
export interface JsonEvent {
  skb: string;
  /** `--output-skb-shared-info` dump (upstream's key and position; no leading newline). */
  skb_shared_info?: string;
  cpu: number;
  process: string;
  func: string;
  /** `--output-return`, return events only: the value as the text output prints it (`-1 (EPERM)`). */
  return?: string;
  /** `--output-return`, return events only: the number (a string beyond 2^53), boolean, or `0x...` pointer. */
  return_value?: number | string | boolean;
  /**
   * Present (true) when the packet failed the filters and was shown only because its skb's
   * address is tracked, on a kernel where pwru cannot see every free (`--filter-track-skb` with
   * the tracepoint backend): the address may by now hold an unrelated skb.
   */
  tracked_only?: true;
  caller_func?: string;
  time?: number | string;
  netns?: number;
  netns_name?: string;
  mark?: number;
  iface?: string;
  proto?: number;
  mtu?: number;
  len?: number;
  cb?: number[];
  tuple?: JsonTuple;
  tunnel_tuple?: JsonTuple;
  stack?: string[];
  /** `--output-skb` dump (upstream misnames it `skb_metadata`). */
  skb_dump?: string;
  /** `--output-bpfmap`, bpf map functions' events: the map, key and value (upstream leaves it out of JSON). */
  bpfmap?: JsonBpfMap;
  /** `--output-ct`: the skb's conntrack entry (absent when it has none). */
  ct?: JsonCt;
  /** `--output-netfilter`: the table walker's hook, table, chain and verdict. */
  netfilter?: JsonNetfilter;
}

function jsonTuple(t: EventTuple, flags: boolean, w?: EventWire): JsonTuple {
  const out: JsonTuple = { saddr: t.saddr, daddr: t.daddr, sport: t.sport, dport: t.dport, proto: t.l4 };
  if (flags) out.flags = t.l4 === 6 ? tcpFlagsString(t.flags) : '';
  if (w) {
    if (w.ipId !== undefined) out.ip_id = w.ipId;
    out.ip_len = w.ipLen;
    if (w.seq !== undefined) out.seq = w.seq;
    if (w.ack !== undefined) out.ack = w.ack;
    if (w.dataHash !== undefined) out.data_hash = w.dataHash;
  }
  return out;
}

/** The wire ids' keys of a tuple object as JSON text (`,"ip_id":1,...`), the order of {@link jsonTuple}. */
function wireText(w: EventWire): string {
  let s = '';
  if (w.ipId !== undefined) s += ',"ip_id":' + w.ipId;
  s += ',"ip_len":' + w.ipLen;
  if (w.seq !== undefined) s += ',"seq":' + w.seq + ',"ack":' + w.ack;
  if (w.dataHash !== undefined) s += ',"data_hash":"' + w.dataHash + '"';
  return s;
}

const PLAIN = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;

/** A JSON string literal; skips JSON.stringify for the common plain-ASCII case. */
function str(v: string): string {
  return PLAIN.test(v) ? `"${v}"` : JSON.stringify(v);
}

/** A tuple object as JSON text; addresses and flag names are plain ASCII, so need no escaping. */
function tupleLine(t: EventTuple, flags: boolean, w?: EventWire): string {
  let s =
    '{"saddr":"' +
    t.saddr +
    '","daddr":"' +
    t.daddr +
    '","sport":' +
    t.sport +
    ',"dport":' +
    t.dport +
    ',"proto":' +
    t.l4;
  if (flags) s += ',"flags":"' + (t.l4 === 6 ? tcpFlagsString(t.flags) : '') + '"';
  if (w) s += wireText(w);
  return s + '}';
}

/** Upstream's `--output-json` (one object per line, no header), with its plain bugs fixed. */
export class JsonPrinter {
  private readonly lastSeen = new Map<string, number>();
  private readonly procNames: ProcessNames<string>;
  private readonly literals = new Map<string, string>();
  private readonly ifaceCache = new Map<number, Map<number, string>>();
  private readonly metaCache = new Map<number, Map<number, string>>();
  private readonly funcNames = new FuncNameCache();

  constructor(
    private readonly opts: OutputOptions,
    private readonly ctx: OutputContext,
  ) {
    this.procNames = new ProcessNames(
      (pid, comm) => ctx.processName(pid, comm),
      (name) => name,
    );
  }

  /** JSON output has no header. */
  header(): string {
    return '';
  }

  /** Forgets cached process names (pids are reused). */
  forgetProcesses(): void {
    this.procNames.clear();
    this.literals.clear();
  }

  /** The record as an object (also what the programmatic API hands out). */
  toJson(ev: PwruEvent): JsonEvent {
    const o = this.opts;
    const ctx = this.ctx;
    const proc = this.procNames.get(ev.pid, ev.comm);
    const d: JsonEvent = {
      skb: hex64(ev.skb.hi, ev.skb.lo),
      ...(ev.shinfoDump !== undefined ? { skb_shared_info: ev.shinfoDump } : {}),
      cpu: ev.cpu,
      process: proc,
      func: funcName(ev, ctx, hex64),
    };
    if (ev.kind === EventKind.Return) {
      d.func = this.funcNames.base(ev, ctx);
      const r = returnValueOf(d.func, ev, ctx.returns);
      d.return = r.text;
      d.return_value = r.value;
    }
    if (isTrackedOnly(ev)) d.tracked_only = true;
    if (o.outputCaller)
      d.caller_func = ev.caller ? (ctx.symbols.nearest(ev.caller) ?? hex64(ev.caller.hi, ev.caller.lo)) : '';
    if (o.timestamp === 'current') d.time = ev.ts;
    else if (o.timestamp === 'absolute') d.time = absoluteTime(ctx.wallClockMs(ev.ts));
    else if (o.timestamp === 'relative') {
      const key = `${ev.skb.hi}:${ev.skb.lo}`;
      const last = this.lastSeen.get(key);
      d.time = last === undefined ? 0 : ev.ts - last;
      this.lastSeen.set(key, ev.ts);
    }
    const m = ev.meta;
    const netnsName = o.outputNetnsNames && m ? ctx.netnsName(m.netns) : undefined;
    if (o.outputMeta && m) {
      d.netns = m.netns;
      if (netnsName !== undefined) d.netns_name = netnsName;
      d.mark = m.mark;
      const name = ctx.ifaceName(m.netns, m.ifindex);
      d.iface = name === undefined ? String(m.ifindex) : `${name}:${m.ifindex}`;
      d.proto = m.proto;
      d.mtu = m.mtu;
      d.len = m.len;
      if (o.outputSkbCb && ev.cb) d.cb = [...ev.cb];
    }
    if (netnsName !== undefined && d.netns_name === undefined) d.netns_name = netnsName;
    if (o.outputTuple && ev.tuple) d.tuple = jsonTuple(ev.tuple, o.outputTcpFlags, ev.wire);
    if (o.outputTunnel && ev.tunnel) d.tunnel_tuple = jsonTuple(ev.tunnel, o.outputTcpFlags);
    if (o.outputStack && ev.stackId !== undefined && ev.stackId >= 0) {
      d.stack = ctx.stack(ev.stackId).map((ip) => ctx.symbols.nearest(ip) ?? hex64(ip.hi, ip.lo));
    }
    if (ev.skbDump !== undefined) d.skb_dump = ev.skbDump;
    if (ev.bpfmap) d.bpfmap = bpfmapJson(ev.bpfmap);
    if (ev.ct) d.ct = ctJson(ev.ct, ctx.ct);
    if (ev.netfilter) d.netfilter = netfilterJson(ev.netfilter);
    return d;
  }

  /** A JSON string literal for a string that repeats (process, func, iface), memoised. */
  private lit(v: string): string {
    let l = this.literals.get(v);
    if (l === undefined) {
      l = str(v);
      if (this.literals.size >= 4096) this.literals.clear();
      this.literals.set(v, l);
    }
    return l;
  }

  /** The FUNC literal (kernel-text lookups cached in {@link FuncNameCache}). */
  private funcLit(ev: PwruEvent): string {
    return this.lit(withDropReason(this.funcNames.base(ev, this.ctx), ev, this.ctx));
  }

  /**
   * `,"netns":N,"mark":M,"iface":"...","proto":P,"mtu":` (without netns_name): cached per
   * (netns, ifindex, proto) for unmarked packets on named interfaces.
   */
  private metaHead(netns: number, mark: number, ifindex: number, proto: number): string {
    const key = ifindex * 65536 + proto;
    if (mark === 0) {
      const hit = this.metaCache.get(netns)?.get(key);
      if (hit !== undefined) return hit;
    }
    const head =
      ',"netns":' +
      netns +
      ',"mark":' +
      mark +
      ',"iface":' +
      this.ifaceLit(netns, ifindex) +
      ',"proto":' +
      proto +
      ',"mtu":';
    if (mark === 0 && this.ifaceCache.get(netns)?.has(ifindex)) {
      let byKey = this.metaCache.get(netns);
      if (!byKey) this.metaCache.set(netns, (byKey = new Map()));
      byKey.set(key, head);
    }
    return head;
  }

  /** The `"iface":...` value, cached per (netns, ifindex) once the name is known. */
  private ifaceLit(netns: number, ifindex: number): string {
    let byIndex = this.ifaceCache.get(netns);
    const hit = byIndex?.get(ifindex);
    if (hit !== undefined) return hit;
    const name = this.ctx.ifaceName(netns, ifindex);
    const lit = str(name === undefined ? String(ifindex) : `${name}:${ifindex}`);
    if (name !== undefined) {
      if (!byIndex) this.ifaceCache.set(netns, (byIndex = new Map()));
      byIndex.set(ifindex, lit);
    }
    return lit;
  }

  /**
   * One event as a JSON line, with its trailing newline: the same text as
   * `JSON.stringify(toJson(ev))`, concatenated directly from cached literals without building
   * the intermediate object.
   */
  format(ev: PwruEvent): string {
    const o = this.opts;
    const ctx = this.ctx;
    const proc = this.procNames.get(ev.pid, ev.comm);
    let s = '{"skb":"' + hex64(ev.skb.hi, ev.skb.lo) + '"';
    if (ev.shinfoDump !== undefined) s += ',"skb_shared_info":' + JSON.stringify(ev.shinfoDump);
    s += ',"cpu":' + ev.cpu + ',"process":' + this.lit(proc) + ',"func":';
    if (ev.kind === EventKind.Return) {
      const name = this.funcNames.base(ev, ctx);
      const r = returnValueOf(name, ev, ctx.returns);
      s += this.lit(name) + ',"return":' + str(r.text) + ',"return_value":' + JSON.stringify(r.value);
    } else {
      s += this.funcLit(ev);
    }
    if (isTrackedOnly(ev)) s += ',"tracked_only":true';
    if (o.outputCaller)
      s +=
        ',"caller_func":' + str(ev.caller ? (ctx.symbols.nearest(ev.caller) ?? hex64(ev.caller.hi, ev.caller.lo)) : '');
    if (o.timestamp === 'current') s += ',"time":' + ev.ts;
    else if (o.timestamp === 'absolute') s += ',"time":"' + absoluteTime(ctx.wallClockMs(ev.ts)) + '"';
    else if (o.timestamp === 'relative') {
      const key = `${ev.skb.hi}:${ev.skb.lo}`;
      const last = this.lastSeen.get(key);
      s += ',"time":' + (last === undefined ? 0 : ev.ts - last);
      this.lastSeen.set(key, ev.ts);
    }
    const m = ev.meta;
    const netnsName = o.outputNetnsNames && m ? ctx.netnsName(m.netns) : undefined;
    if (o.outputMeta && m) {
      if (netnsName === undefined) s += this.metaHead(m.netns, m.mark, m.ifindex, m.proto);
      else
        s +=
          ',"netns":' +
          m.netns +
          ',"netns_name":' +
          this.lit(netnsName) +
          ',"mark":' +
          m.mark +
          ',"iface":' +
          this.ifaceLit(m.netns, m.ifindex) +
          ',"proto":' +
          m.proto +
          ',"mtu":';
      s += m.mtu + ',"len":' + m.len;
      if (o.outputSkbCb && ev.cb) s += ',"cb":[' + ev.cb.join(',') + ']';
    } else if (netnsName !== undefined) s += ',"netns_name":' + this.lit(netnsName);
    if (o.outputTuple && ev.tuple) s += ',"tuple":' + tupleLine(ev.tuple, o.outputTcpFlags, ev.wire);
    if (o.outputTunnel && ev.tunnel) s += ',"tunnel_tuple":' + tupleLine(ev.tunnel, o.outputTcpFlags);
    if (o.outputStack && ev.stackId !== undefined && ev.stackId >= 0) {
      s +=
        ',"stack":[' +
        ctx
          .stack(ev.stackId)
          .map((ip) => str(ctx.symbols.nearest(ip) ?? hex64(ip.hi, ip.lo)))
          .join(',') +
        ']';
    }
    if (ev.skbDump !== undefined) s += ',"skb_dump":' + JSON.stringify(ev.skbDump);
    if (ev.bpfmap) s += ',"bpfmap":' + JSON.stringify(bpfmapJson(ev.bpfmap));
    if (ev.ct) s += ',"ct":' + JSON.stringify(ctJson(ev.ct, ctx.ct));
    if (ev.netfilter) s += ',"netfilter":' + JSON.stringify(netfilterJson(ev.netfilter));
    return s + '}\n';
  }
}
