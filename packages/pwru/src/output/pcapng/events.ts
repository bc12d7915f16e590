/**
 * pwru events as pcapng: every event becomes one Enhanced Packet Block holding the packet bytes
 * the kernel held at that function, on an interface per (netns, ifindex, link type), with
 *
 * - `opt_comment`: the event as a line Wireshark shows beside the packet (`frame.comment`):
 *   `kfree_skb(SKB_DROP_REASON_NETFILTER_DROP) skb=0xffff... cpu=1 process=ping:4711 netns=...`;
 * - a custom string option (code 2988, PEN {@link PWRU_PEN}) holding the event as one
 *   `--output-json` object with `"time"` the raw ktime, so the JSON output can be rebuilt from
 *   the file ({@link eventJsonFromCustom}).
 *
 * Timestamps are the event's `bpf_ktime_get_ns()` moved to the wall clock with the same offset
 * `--timestamp absolute` uses, in nanoseconds (`if_tsresol` = 9).
 */
import { EventKind, type PwruEvent } from '../../event.js';
import type { OutputContext } from '../context.js';
import type { OutputOptions } from '../options.js';
import type { ByteSink } from '../writer.js';
import { EventOptionEncoder } from './encode.js';
import { LINKTYPE, type LinkType, PWRU_PEN, type SectionInfo } from './format.js';
import { PcapngWriter } from './writer.js';

/** The bytes of a packet as the kernel held them at the event's function. */
export interface CapturedPacket {
  /** Ethernet when the bytes start at the MAC header, raw IP when at the network header. */
  readonly linkType: LinkType;
  /** Up to the snap length. */
  readonly data: Uint8Array;
  /** The whole packet's length from the same header. */
  readonly origLen: number;
}

/** Options of a {@link PcapngEventWriter}. */
export interface PcapngEventOptions {
  /** The snap length the capture used (written in every Interface Description Block). */
  readonly snaplen: number;
  /** The printers' switches: the comment and JSON show what the text and JSON outputs show. */
  readonly output: OutputOptions;
  /** Section Header Block facts (default: `pwru`). */
  readonly section?: SectionInfo;
}

const EMPTY = new Uint8Array(0);
const TWO32 = 4294967296;

/** Return events reuse the bytes of their entry event; this many skbs are remembered. */
const MAX_REMEMBERED = 4096;

/** Writes pwru events as a pcapng stream. */
export class PcapngEventWriter {
  readonly writer: PcapngWriter;
  /** Interface ids by link type, netns and ifindex. */
  private readonly ifaces = new Map<number, Map<number, Map<number, number>>>();
  private readonly encoder: EventOptionEncoder;
  /** The last interface met, the next event's likely one. */
  private lastNetns = -1;
  private lastIfindex = -1;
  private lastLinkType = -1;
  private lastIface = -1;
  private readonly offHi: number;
  private readonly offLo: number;
  private readonly lastPacket = new Map<string, CapturedPacket>();

  constructor(
    sink: number | ByteSink,
    private readonly ctx: OutputContext,
    private readonly o: PcapngEventOptions,
  ) {
    this.writer = new PcapngWriter(sink, o.section ?? { application: 'pwru' });
    this.encoder = new EventOptionEncoder(ctx, o.output);
    // Wall-clock nanoseconds of ktime 0, exact as two 32-bit halves.
    const ms = ctx.wallClockMs(0);
    const whole = Math.floor(ms);
    const off = BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
    this.offHi = Number(off >> 32n);
    this.offLo = Number(off & 0xffffffffn);
  }

  /** The interface id for a device of a netns seen with a link type, written when first met. */
  private iface(netns: number, ifindex: number, linkType: LinkType): number {
    if (netns === this.lastNetns && ifindex === this.lastIfindex && linkType === this.lastLinkType)
      return this.lastIface;
    let byNetns = this.ifaces.get(linkType);
    if (!byNetns) this.ifaces.set(linkType, (byNetns = new Map()));
    let byIndex = byNetns.get(netns);
    if (!byIndex) byNetns.set(netns, (byIndex = new Map()));
    let id = byIndex.get(ifindex);
    if (id === undefined) {
      const name = ifindex === 0 ? 'no device' : (this.ctx.ifaceName(netns, ifindex) ?? `ifindex ${ifindex}`);
      const nsName = this.ctx.netnsName(netns);
      const description = `netns ${netns}${nsName ? ` (${nsName})` : ''}, ifindex ${ifindex}, ${linkType === LINKTYPE.ethernet ? 'from the MAC header' : 'from the network header (no MAC header)'}`;
      id = this.writer.addInterface({ linkType, snaplen: this.o.snaplen, name, description });
      byIndex.set(ifindex, id);
    }
    this.lastNetns = netns;
    this.lastIfindex = ifindex;
    this.lastLinkType = linkType;
    this.lastIface = id;
    return id;
  }

  /** Writes one event; `packet` is what the kernel copied for it (absent: no bytes, e.g. lost). */
  write(ev: PwruEvent, packet?: CapturedPacket): void {
    // Return events (--output-return) reuse their entry's bytes.
    if (this.ctx.returns !== undefined) {
      const skbKey = `${ev.skb.hi}:${ev.skb.lo}`;
      if (ev.kind === EventKind.Return) packet ??= this.lastPacket.get(skbKey);
      else if (packet) {
        if (this.lastPacket.size >= MAX_REMEMBERED)
          this.lastPacket.delete(this.lastPacket.keys().next().value as string);
        this.lastPacket.set(skbKey, packet);
      }
    }
    const m = ev.meta;
    const linkType = packet?.linkType ?? LINKTYPE.ethernet;
    const iface = this.iface(m?.netns ?? 0, m?.ifindex ?? 0, linkType);
    let lo = this.offLo + (ev.ts % TWO32);
    let hi = this.offHi + Math.floor(ev.ts / TWO32);
    if (lo >= TWO32) {
      lo -= TWO32;
      hi += 1;
    }
    const w = this.writer;
    const data = packet?.data ?? EMPTY;
    w.beginPacket(iface, hi, lo, data, packet?.origLen ?? m?.len ?? 0);
    this.encoder.writeOptions(w, ev);
    w.endPacket();
  }

  /** The `opt_comment` of an event: pwru's text line as `key=value` words after FUNC. */
  comment(ev: PwruEvent): string {
    return this.encoder.commentText(ev);
  }

  /** Writes what is buffered. */
  flush(): void {
    this.writer.flush();
  }
}

/**
 * The `--output-json` object an Enhanced Packet Block's pwru custom option holds, given the
 * option's value (PEN included, as tshark's `frame.custom_option` or a parser hands it over).
 */
export function eventJsonFromCustom(value: Uint8Array): unknown {
  if (value.length < 4) throw new RangeError('a pwru custom option starts with a 4-byte PEN');
  const pen = new DataView(value.buffer, value.byteOffset, 4).getUint32(0, true);
  if (pen !== PWRU_PEN) throw new RangeError(`not a pwru custom option (PEN ${pen}, not ${PWRU_PEN})`);
  return JSON.parse(new TextDecoder().decode(value.subarray(4)));
}
