/**
 * The user-space half of the in-kernel packet copy: reads packet records from the `skb_packets`
 * ring buffer (see `generate/skb-packet.ts`) and hands each event the bytes copied for it.
 */
import type { PwruEvent } from '../../event.js';
import { PACKET_HEADER, PacketStart } from '../../generate/skb-packet.js';
import type { CapturedPacket } from './events.js';
import { LINKTYPE } from './format.js';

/** Delivers every committed record to `each` (a ring buffer's `consume`). */
export type PacketDrain = (each: (view: DataView, offset: number, length: number) => void) => void;

/** Records kept waiting for their event before the oldest are dropped. */
export const MAX_PENDING_PACKETS = 4096;

/** Decodes one packet record (copying the bytes out of the ring). */
export function decodePacketRecord(
  view: DataView,
  off: number,
  length: number,
): { key: string; packet: CapturedPacket } | undefined {
  if (length < PACKET_HEADER.size) return undefined;
  const ts =
    view.getUint32(off + PACKET_HEADER.ts + 4, true) * 4294967296 + view.getUint32(off + PACKET_HEADER.ts, true);
  const cpu = view.getUint32(off + PACKET_HEADER.cpu, true);
  const start = view.getUint32(off + PACKET_HEADER.start, true);
  const capLen = Math.min(view.getUint32(off + PACKET_HEADER.capLen, true), length - PACKET_HEADER.size);
  const origLen = view.getUint32(off + PACKET_HEADER.origLen, true);
  const data = new Uint8Array(view.buffer, view.byteOffset + off + PACKET_HEADER.size, capLen).slice();
  return {
    key: packetKey(cpu, ts),
    packet: {
      linkType: start === PacketStart.Mac ? LINKTYPE.ethernet : LINKTYPE.raw,
      data,
      origLen: Math.max(origLen, capLen),
    },
  };
}

/** The key a packet record and its event share. */
export function packetKey(cpu: number, ts: number): string {
  return `${cpu}:${ts}`;
}

/** Matches packet records to the events they were copied for. */
export class PacketJoiner {
  private readonly pending = new Map<string, CapturedPacket>();
  /** Events whose bytes never arrived (ring full, copy failed, no header set). */
  missing = 0;

  constructor(private readonly drain: PacketDrain) {}

  private store = (view: DataView, off: number, length: number): void => {
    const r = decodePacketRecord(view, off, length);
    if (!r) return;
    if (this.pending.size >= MAX_PENDING_PACKETS) this.pending.delete(this.pending.keys().next().value as string);
    this.pending.set(r.key, r.packet);
  };

  /**
   * The bytes copied for `ev`, reading the packet ring when they are not in hand yet (they were
   * committed before the event was, so one drain finds them unless there were none).
   */
  take(ev: PwruEvent): CapturedPacket | undefined {
    // A table walker's event is stamped at its return; its bytes were copied at its entry.
    const entry = ev.netfilter?.entry;
    const key = entry ? packetKey(entry.cpu, entry.ts) : packetKey(ev.cpu, ev.ts);
    let p = this.pending.get(key);
    if (p === undefined) {
      this.drain(this.store);
      p = this.pending.get(key);
    }
    if (p === undefined) this.missing++;
    else this.pending.delete(key);
    return p;
  }
}
