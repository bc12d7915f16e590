/**
 * The event record the generated BPF programs write into the ring buffer, and its decoder.
 *
 * One module describes the layout so the generator (which emits the stores) and the decoder
 * (which reads them) cannot drift apart. Unlike upstream's fixed 246-byte record, the record is
 * sized per enabled output option: a fixed 80-byte header, then only the sections asked for.
 */
import { ctAt, CT, type EventCt } from './ct/section.js';
import { netfilterAt, NF, type EventNetfilter } from './netfilter/section.js';
import { ipBytes, ipv4String, ipv6String } from './output/ip.js';
import { type EventWire, WIRE, wireAt } from './wire/section.js';

/** Which optional sections an event carries. */
export interface EventSections {
  /** netns, mark, ifindex, len, mtu, protocol (`--output-meta`, also `--output-netns-names`). */
  readonly meta: boolean;
  /** `skb->cb` (`--output-skb-cb`). */
  readonly cb: boolean;
  /** The L3/L4 tuple (`--output-tuple`). */
  readonly tuple: boolean;
  /** The inner tuple at `inner_network_header` (`--output-tunnel`). */
  readonly tunnel: boolean;
  /** A `bpf_get_stackid` id (`--output-stack`). */
  readonly stack: boolean;
  /** The return address at the probe (`--output-caller`). */
  readonly caller: boolean;
  /** Number of `--output-skb-metadata` values (0-4), 8 bytes each. */
  readonly metadata?: number;
  /** The traced function's return value, filled in return events (`--output-return`). */
  readonly ret?: boolean;
  /** A bpf map's id, name, key and value (`--output-bpfmap`), filled by bpf map functions' events. */
  readonly bpfmap?: boolean;
  /** The skb's conntrack entry (`--output-ct`, see `ct/section.ts`). */
  readonly ct?: boolean;
  /** A table walker's hook, table, chain and verdict (`--output-netfilter`, see `netfilter/`). */
  readonly netfilter?: boolean;
  /**
   * IP ID, IP length, TCP seq/ack and a payload hash beside the tuple (see `wire/section.ts`);
   * on with `--output-tuple` and `--output-json`, for the cross-node timeline.
   */
  readonly wire?: boolean;
}

/** Most bytes of a bpf map key or value an event carries (as upstream). */
export const BPFMAP_MAX_DATA = 256;

/** Byte offsets inside the bpfmap section (544 bytes); an id of 0 means "no map in this event". */
export const BPFMAP = {
  id: 0,
  keySize: 4,
  valueSize: 8,
  /** 1 when the value bytes were read (a lookup that found nothing has none). */
  hasValue: 12,
  /** `bpf_map.name`: 16 bytes, NUL-padded. */
  name: 16,
  key: 32,
  value: 32 + BPFMAP_MAX_DATA,
  size: 32 + 2 * BPFMAP_MAX_DATA,
} as const;

/** Decoded `--output-bpfmap` fields. */
export interface EventBpfMap {
  readonly id: number;
  /** The map's name, up to its first NUL. */
  readonly name: string;
  /** The real key and value sizes (the bytes below stop at {@link BPFMAP_MAX_DATA}). */
  readonly keySize: number;
  readonly valueSize: number;
  readonly key: Uint8Array;
  /** Absent for deletes, and for lookups that found no element. */
  readonly value?: Uint8Array;
}

/** Byte offsets inside a tuple section (40 bytes). */
export const TUPLE = {
  saddr: 0,
  daddr: 16,
  /** Network order. */
  sport: 32,
  /** Network order. */
  dport: 34,
  /** Host order: 0x0800, 0x86dd, or 0 when the packet is not IP. */
  l3: 36,
  /** IP protocol, after walking IPv6 extension headers. */
  l4: 38,
  /** TCP flags byte (FIN=0x01 ... CWR=0x80). */
  flags: 39,
  size: 40,
} as const;

/** Byte offsets inside the meta section (24 bytes). */
export const META = {
  netns: 0,
  mark: 4,
  ifindex: 8,
  len: 12,
  mtu: 16,
  /** `skb->protocol` as stored in the skb (network order). */
  proto: 20,
  size: 24,
} as const;

/** Byte offsets of the fixed header, present in every event. */
export const HEADER = {
  skb: 0,
  /** Address of the traced function (`bpf_get_func_ip`); 0 for tracepoints. */
  addr: 8,
  /** `bpf_ktime_get_ns()`. */
  ts: 16,
  /** Second argument of the traced function (or the tracepoint's drop reason). */
  p2: 24,
  /** Third argument of the traced function. */
  p3: 32,
  /** Thread-group id (the process id). */
  pid: 40,
  cpu: 44,
  /** Index of the probe site (which tracepoint or program) in the run's site table. */
  site: 48,
  /** {@link EventKind}. */
  kind: 52,
  /** The current task's command name (`bpf_get_current_comm`), NUL-padded. */
  comm: 56,
  commSize: 16,
  /** {@link EventFlags} bits. */
  flags: 72,
  size: 80,
} as const;

/** Bits of the header's `flags` word. */
export const EventFlags = {
  /**
   * The skb matched no filter: it was shown because `--filter-track-skb` tracks its address, on
   * a kernel where pwru cannot see every free, so the address may belong to an unrelated skb.
   */
  trackedOnly: 1,
} as const;

/** Whether the event was shown only because its skb's address is tracked ({@link EventFlags.trackedOnly}). */
export function isTrackedOnly(ev: PwruEvent): boolean {
  return ((ev.flags ?? 0) & EventFlags.trackedOnly) !== 0;
}

/** The text output's mark after FUNC for {@link isTrackedOnly} events. */
export const TRACKED_ONLY_MARK = ' (tracked only)';

/** What kind of probe produced an event. */
export enum EventKind {
  Kprobe = 0,
  KprobeMulti = 1,
  /** fentry on a tc (sched_cls/sched_act) BPF program (`--filter-trace-tc`), as upstream's 2. */
  Tc = 2,
  /** fentry on an XDP BPF program (`--filter-trace-xdp`), as upstream's 3. */
  Xdp = 3,
  Tracepoint = 4,
  Fentry = 5,
  /**
   * A traced function returned (`--output-return`, from a kretprobe, a kprobe-multi return probe
   * or fexit): the record repeats its entry event's sections, with the return value added.
   */
  Return = 6,
}

/** The layout of one run's events: section offsets (-1 when absent) and the record size. */
export interface EventLayout {
  readonly sections: EventSections;
  readonly meta: number;
  readonly cb: number;
  readonly tuple: number;
  readonly tunnel: number;
  readonly stack: number;
  readonly caller: number;
  /** Start of the `--output-skb-metadata` values (8 bytes each), or -1. */
  readonly metadata: number;
  /** The 8-byte return value (`--output-return`), or -1. */
  readonly ret: number;
  /** The bpfmap section ({@link BPFMAP}, `--output-bpfmap`), or -1. */
  readonly bpfmap: number;
  /** The ct section ({@link CT}, `--output-ct`), or -1. */
  readonly ct: number;
  /** The netfilter section ({@link NF}, `--output-netfilter`), or -1. */
  readonly netfilter: number;
  /** The wire section ({@link WIRE}), or -1. */
  readonly wire: number;
  /** Record size in bytes (a multiple of 8). */
  readonly size: number;
}

/** Computes the record layout for a set of enabled sections. */
export function eventLayout(sections: EventSections): EventLayout {
  let off = HEADER.size;
  const take = (on: boolean, size: number): number => {
    if (!on) return -1;
    const at = off;
    off += (size + 7) & ~7;
    return at;
  };
  const meta = take(sections.meta, META.size);
  const cb = take(sections.cb, 20);
  const tuple = take(sections.tuple, TUPLE.size);
  const tunnel = take(sections.tunnel, TUPLE.size);
  const stack = take(sections.stack, 8);
  const caller = take(sections.caller, 8);
  const metadata = take((sections.metadata ?? 0) > 0, 8 * (sections.metadata ?? 0));
  const ret = take(sections.ret === true, 8);
  const bpfmap = take(sections.bpfmap === true, BPFMAP.size);
  const ct = take(sections.ct === true, CT.size);
  const netfilter = take(sections.netfilter === true, NF.size);
  const wire = take(sections.wire === true && sections.tuple, WIRE.size);
  return { sections, meta, cb, tuple, tunnel, stack, caller, metadata, ret, bpfmap, ct, netfilter, wire, size: off };
}

/** A 64-bit kernel address kept as two 32-bit halves, so hot paths need no BigInt. */
export interface Addr64 {
  readonly hi: number;
  readonly lo: number;
}

/** Decoded `--output-meta` fields. */
export interface EventMeta {
  readonly netns: number;
  readonly mark: number;
  readonly ifindex: number;
  readonly len: number;
  readonly mtu: number;
  /** Host order (0x0800 for IPv4). */
  readonly proto: number;
}

/** A decoded L3/L4 tuple. */
export interface EventTuple {
  /** Address text as Go prints it (no IPv6 brackets); empty when `l3` is neither IPv4 nor IPv6. */
  readonly saddr: string;
  readonly daddr: string;
  /** Host order. */
  readonly sport: number;
  /** Host order. */
  readonly dport: number;
  readonly l3: number;
  readonly l4: number;
  readonly flags: number;
}

/** One decoded event. */
export interface PwruEvent {
  readonly skb: Addr64;
  readonly addr: Addr64;
  /** Monotonic nanoseconds (exact below 2^53 ns, i.e. about 104 days of uptime). */
  readonly ts: number;
  /** Low 32 bits of the second and third arguments (drop reasons are 32-bit enums). */
  readonly p2: number;
  readonly p3: number;
  readonly pid: number;
  /**
   * The command name of the task the event ran in (`bpf_get_current_comm`, at most 15 bytes):
   * names the process even when it exited before its events were printed. Empty if unknown.
   */
  readonly comm?: string;
  /** {@link EventFlags} bits (0 when absent). */
  readonly flags?: number;
  readonly cpu: number;
  readonly site: number;
  readonly kind: EventKind;
  readonly meta?: EventMeta;
  readonly cb?: readonly number[];
  readonly tuple?: EventTuple;
  readonly tunnel?: EventTuple;
  /** `bpf_get_stackid` result; negative on error. */
  readonly stackId?: number;
  readonly caller?: Addr64;
  /** `--output-skb-metadata` values, as read (64-bit, little-endian halves). */
  readonly metadata?: readonly Addr64[];
  /** `--output-skb`: the `bpf_snprintf_btf` dump of the skb (from the dump ring, see `output/dumps.ts`). */
  readonly skbDump?: string;
  /** `--output-skb-shared-info`: the dump of the skb's `struct skb_shared_info`. */
  readonly shinfoDump?: string;
  /** The raw 64-bit return value (`rax`) of a {@link EventKind.Return} event. */
  readonly retval?: Addr64;
  /** `--output-bpfmap`: the map a bpf map function worked on, with its key and value. */
  readonly bpfmap?: EventBpfMap;
  /** `--output-ct`: the skb's conntrack entry; absent when the skb has none. */
  readonly ct?: EventCt;
  /** `--output-netfilter`: the table (and nftables chain) a walker evaluated, and its verdict. */
  readonly netfilter?: EventNetfilter;
  /** The tuple's wire identifiers (IP ID, length, TCP seq/ack, payload hash); see `wire/section.ts`. */
  readonly wire?: EventWire;
}

const noAddr = (): string => '';

function u64(view: DataView, off: number): Addr64 {
  return { lo: view.getUint32(off, true), hi: view.getUint32(off + 4, true) };
}

function tupleAt(view: DataView, off: number): EventTuple {
  const l3 = view.getUint16(off + TUPLE.l3, true);
  const addr = l3 === 0x0800 ? ipv4String : l3 === 0x86dd ? ipv6String : noAddr;
  return {
    saddr: addr(view, off + TUPLE.saddr),
    daddr: addr(view, off + TUPLE.daddr),
    sport: view.getUint16(off + TUPLE.sport, false),
    dport: view.getUint16(off + TUPLE.dport, false),
    l3,
    l4: view.getUint8(off + TUPLE.l4),
    flags: view.getUint8(off + TUPLE.flags),
  };
}

/**
 * A decoded event with every field present from construction (absent sections `undefined`), so
 * every event shares one object shape and the printers' property reads stay monomorphic.
 */
class DecodedEvent implements PwruEvent {
  meta: EventMeta | undefined = undefined;
  cb: readonly number[] | undefined = undefined;
  tuple: EventTuple | undefined = undefined;
  tunnel: EventTuple | undefined = undefined;
  stackId: number | undefined = undefined;
  caller: Addr64 | undefined = undefined;
  metadata: readonly Addr64[] | undefined = undefined;
  skbDump: string | undefined = undefined;
  shinfoDump: string | undefined = undefined;
  retval: Addr64 | undefined = undefined;
  bpfmap: EventBpfMap | undefined = undefined;
  ct: EventCt | undefined = undefined;
  netfilter: EventNetfilter | undefined = undefined;
  wire: EventWire | undefined = undefined;

  constructor(
    readonly skb: Addr64,
    readonly addr: Addr64,
    readonly ts: number,
    readonly p2: number,
    readonly p3: number,
    readonly pid: number,
    readonly comm: string,
    readonly flags: number,
    readonly cpu: number,
    readonly site: number,
    readonly kind: EventKind,
  ) {}
}

/** The NUL-terminated command name at `off` (ASCII fast path; UTF-8 otherwise). */
function commAt(view: DataView, off: number): string {
  let s = '';
  for (let i = 0; i < HEADER.commSize; i++) {
    const c = view.getUint8(off + i);
    if (c === 0) return s;
    if (c >= 0x80) return utf8Comm(view, off);
    s += String.fromCharCode(c);
  }
  return s;
}

const commDecoder = new TextDecoder();

function utf8Comm(view: DataView, off: number): string {
  const bytes = new Uint8Array(view.buffer, view.byteOffset + off, HEADER.commSize);
  const end = bytes.indexOf(0);
  return commDecoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/** Decodes the record at `off` in `view` (little-endian, as written on x86-64 and arm64). */
export function decodeEvent(view: DataView, off: number, layout: EventLayout): PwruEvent {
  const ev = new DecodedEvent(
    u64(view, off + HEADER.skb),
    u64(view, off + HEADER.addr),
    view.getUint32(off + HEADER.ts + 4, true) * 4294967296 + view.getUint32(off + HEADER.ts, true),
    view.getUint32(off + HEADER.p2, true),
    view.getUint32(off + HEADER.p3, true),
    view.getUint32(off + HEADER.pid, true),
    commAt(view, off + HEADER.comm),
    view.getUint32(off + HEADER.flags, true),
    view.getUint32(off + HEADER.cpu, true),
    view.getUint32(off + HEADER.site, true),
    view.getUint32(off + HEADER.kind, true),
  );
  if (layout.meta >= 0) {
    const m = off + layout.meta;
    ev.meta = {
      netns: view.getUint32(m + META.netns, true),
      mark: view.getUint32(m + META.mark, true),
      ifindex: view.getUint32(m + META.ifindex, true),
      len: view.getUint32(m + META.len, true),
      mtu: view.getUint32(m + META.mtu, true),
      proto: view.getUint16(m + META.proto, false),
    };
  }
  if (layout.cb >= 0) {
    const c = off + layout.cb;
    ev.cb = [
      view.getUint32(c, true),
      view.getUint32(c + 4, true),
      view.getUint32(c + 8, true),
      view.getUint32(c + 12, true),
      view.getUint32(c + 16, true),
    ];
  }
  if (layout.tuple >= 0) ev.tuple = tupleAt(view, off + layout.tuple);
  if (layout.tunnel >= 0) ev.tunnel = tupleAt(view, off + layout.tunnel);
  if (layout.stack >= 0) ev.stackId = view.getInt32(off + layout.stack, true);
  if (layout.caller >= 0) ev.caller = u64(view, off + layout.caller);
  if (layout.metadata >= 0) {
    const n = layout.sections.metadata ?? 0;
    const values: Addr64[] = [];
    for (let i = 0; i < n; i++) values.push(u64(view, off + layout.metadata + 8 * i));
    ev.metadata = values;
  }
  if (layout.ret >= 0 && ev.kind === EventKind.Return) ev.retval = u64(view, off + layout.ret);
  if (layout.bpfmap >= 0) ev.bpfmap = bpfmapAt(view, off + layout.bpfmap);
  if (layout.ct >= 0) ev.ct = ctAt(view, off + layout.ct);
  if (layout.netfilter >= 0) ev.netfilter = netfilterAt(view, off + layout.netfilter);
  if (layout.wire >= 0) ev.wire = wireAt(view, off + layout.wire, ev.tuple);
  return ev;
}

function bpfmapAt(view: DataView, off: number): EventBpfMap | undefined {
  const id = view.getUint32(off + BPFMAP.id, true);
  if (id === 0) return undefined;
  const bytes = (at: number, n: number): Uint8Array =>
    new Uint8Array(view.buffer.slice(view.byteOffset + at, view.byteOffset + at + Math.min(n, BPFMAP_MAX_DATA)));
  let name = '';
  for (let i = 0; i < 16; i++) {
    const c = view.getUint8(off + BPFMAP.name + i);
    if (c === 0) break;
    name += String.fromCharCode(c);
  }
  const keySize = view.getUint32(off + BPFMAP.keySize, true);
  const valueSize = view.getUint32(off + BPFMAP.valueSize, true);
  const key = bytes(off + BPFMAP.key, keySize);
  if (view.getUint32(off + BPFMAP.hasValue, true) === 0) return { id, name, keySize, valueSize, key };
  return { id, name, keySize, valueSize, key, value: bytes(off + BPFMAP.value, valueSize) };
}

/** Encodes an event (the inverse of {@link decodeEvent}); used by tests and benchmarks. */
export function encodeEvent(ev: PwruEvent, layout: EventLayout): Uint8Array {
  const bytes = new Uint8Array(layout.size);
  const view = new DataView(bytes.buffer);
  const put64 = (off: number, a: Addr64): void => {
    view.setUint32(off, a.lo, true);
    view.setUint32(off + 4, a.hi, true);
  };
  put64(HEADER.skb, ev.skb);
  put64(HEADER.addr, ev.addr);
  view.setUint32(HEADER.ts, ev.ts % 4294967296, true);
  view.setUint32(HEADER.ts + 4, Math.floor(ev.ts / 4294967296), true);
  view.setUint32(HEADER.p2, ev.p2, true);
  view.setUint32(HEADER.p3, ev.p3, true);
  view.setUint32(HEADER.pid, ev.pid, true);
  if (ev.comm) bytes.set(new TextEncoder().encode(ev.comm).subarray(0, HEADER.commSize - 1), HEADER.comm);
  view.setUint32(HEADER.flags, ev.flags ?? 0, true);
  view.setUint32(HEADER.cpu, ev.cpu, true);
  view.setUint32(HEADER.site, ev.site, true);
  view.setUint32(HEADER.kind, ev.kind, true);
  if (layout.meta >= 0 && ev.meta) {
    const m = layout.meta;
    view.setUint32(m + META.netns, ev.meta.netns, true);
    view.setUint32(m + META.mark, ev.meta.mark, true);
    view.setUint32(m + META.ifindex, ev.meta.ifindex, true);
    view.setUint32(m + META.len, ev.meta.len, true);
    view.setUint32(m + META.mtu, ev.meta.mtu, true);
    view.setUint16(m + META.proto, ev.meta.proto, false);
  }
  if (layout.cb >= 0 && ev.cb) ev.cb.forEach((v, i) => view.setUint32(layout.cb + 4 * i, v, true));
  const putTuple = (off: number, t: EventTuple): void => {
    if (t.saddr) bytes.set(ipBytes(t.saddr), off + TUPLE.saddr);
    if (t.daddr) bytes.set(ipBytes(t.daddr), off + TUPLE.daddr);
    view.setUint16(off + TUPLE.sport, t.sport, false);
    view.setUint16(off + TUPLE.dport, t.dport, false);
    view.setUint16(off + TUPLE.l3, t.l3, true);
    view.setUint8(off + TUPLE.l4, t.l4);
    view.setUint8(off + TUPLE.flags, t.flags);
  };
  if (layout.tuple >= 0 && ev.tuple) putTuple(layout.tuple, ev.tuple);
  if (layout.tunnel >= 0 && ev.tunnel) putTuple(layout.tunnel, ev.tunnel);
  if (layout.stack >= 0 && ev.stackId !== undefined) view.setInt32(layout.stack, ev.stackId, true);
  if (layout.caller >= 0 && ev.caller) put64(layout.caller, ev.caller);
  if (layout.metadata >= 0 && ev.metadata) ev.metadata.forEach((v, i) => put64(layout.metadata + 8 * i, v));
  if (layout.ret >= 0 && ev.retval) put64(layout.ret, ev.retval);
  if (layout.bpfmap >= 0 && ev.bpfmap) {
    const b = layout.bpfmap;
    view.setUint32(b + BPFMAP.id, ev.bpfmap.id, true);
    view.setUint32(b + BPFMAP.keySize, ev.bpfmap.keySize, true);
    view.setUint32(b + BPFMAP.valueSize, ev.bpfmap.valueSize, true);
    bytes.set(new TextEncoder().encode(ev.bpfmap.name).subarray(0, 16), b + BPFMAP.name);
    bytes.set(ev.bpfmap.key.subarray(0, BPFMAP_MAX_DATA), b + BPFMAP.key);
    if (ev.bpfmap.value) {
      view.setUint32(b + BPFMAP.hasValue, 1, true);
      bytes.set(ev.bpfmap.value.subarray(0, BPFMAP_MAX_DATA), b + BPFMAP.value);
    }
  }
  return bytes;
}
