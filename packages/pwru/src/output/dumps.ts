/**
 * The user-space half of `--output-skb` / `--output-skb-shared-info`: reads dump records from
 * the `skb_dumps` ring buffer (see `generate/skb-dump.ts` for the design) and hands each event
 * the dumps made for it.
 */
import type { PwruEvent } from '../event.js';
import { DUMP_HEADER, DumpKind } from '../generate/skb-dump.js';

/** Delivers every committed dump record to `each` (a ring buffer's `consume`). */
export type DumpDrain = (each: (view: DataView, offset: number, length: number) => void) => void;

/** The dumps of one event. */
export interface EventDumps {
  skb?: string;
  sharedInfo?: string;
}

/** Shown instead of a dump that never arrived (its ring buffer was full, or the helper failed). */
export const LOST_DUMP = '(dump lost: the skb_dumps ring buffer was full or bpf_snprintf_btf failed)';

/** Dumps kept waiting for their event before the oldest are dropped. */
export const MAX_PENDING_DUMPS = 4096;

const utf8 = new TextDecoder('utf-8');

/** Decodes one dump record; the text loses its trailing newline and notes a truncation. */
export function decodeDump(view: DataView, off: number, length: number): { key: string; kind: DumpKind; text: string } {
  const ts = view.getUint32(off + DUMP_HEADER.ts + 4, true) * 4294967296 + view.getUint32(off + DUMP_HEADER.ts, true);
  const cpu = view.getUint32(off + DUMP_HEADER.cpu, true);
  const kind = view.getUint32(off + DUMP_HEADER.kind, true) as DumpKind;
  const full = view.getUint32(off + DUMP_HEADER.full, true);
  const len = length - DUMP_HEADER.size;
  let text = utf8.decode(new Uint8Array(view.buffer, view.byteOffset + off + DUMP_HEADER.size, len));
  text = text.replace(/\n+$/, '');
  if (full > len) text += `\n... (truncated: ${len} of ${full} bytes; raise --set-percpu-buf)`;
  return { key: dumpKey(cpu, ts), kind, text };
}

/** The key a dump and its event share. */
export function dumpKey(cpu: number, ts: number): string {
  return `${cpu}:${ts}`;
}

/** Matches dump records to the events they were made for. */
export class DumpJoiner {
  private readonly pending = new Map<string, EventDumps>();
  /** Dumps that never arrived. */
  lost = 0;

  constructor(
    private readonly drain: DumpDrain,
    private readonly want: { readonly skb: boolean; readonly sharedInfo: boolean },
  ) {}

  private store = (view: DataView, off: number, length: number): void => {
    if (length < DUMP_HEADER.size) return;
    const d = decodeDump(view, off, length);
    let entry = this.pending.get(d.key);
    if (!entry) {
      if (this.pending.size >= MAX_PENDING_DUMPS) {
        const oldest = this.pending.keys().next().value as string;
        this.pending.delete(oldest);
      }
      entry = {};
      this.pending.set(d.key, entry);
    }
    if (d.kind === DumpKind.Skb) entry.skb = d.text;
    else if (d.kind === DumpKind.SharedInfo) entry.sharedInfo = d.text;
  };

  private complete(e: EventDumps | undefined): boolean {
    return (
      e !== undefined &&
      (!this.want.skb || e.skb !== undefined) &&
      (!this.want.sharedInfo || e.sharedInfo !== undefined)
    );
  }

  /**
   * The dumps of `ev`, reading the dump ring when they are not in hand yet (they were committed
   * before the event was, so one drain finds them unless they were lost).
   */
  take(ev: PwruEvent): EventDumps {
    const key = dumpKey(ev.cpu, ev.ts);
    let entry = this.pending.get(key);
    if (!this.complete(entry)) {
      this.drain(this.store);
      entry = this.pending.get(key);
    }
    this.pending.delete(key);
    const out: EventDumps = {};
    if (this.want.skb) {
      if (entry?.skb === undefined) this.lost++;
      out.skb = entry?.skb ?? LOST_DUMP;
    }
    if (this.want.sharedInfo) {
      if (entry?.sharedInfo === undefined) this.lost++;
      out.sharedInfo = entry?.sharedInfo ?? LOST_DUMP;
    }
    return out;
  }

  /** Returns `ev` with its dumps attached (`skbDump`, `shinfoDump`). */
  attach(ev: PwruEvent): PwruEvent {
    const d = this.take(ev);
    const target = ev as { skbDump?: string; shinfoDump?: string };
    if (d.skb !== undefined) target.skbDump = d.skb;
    if (d.sharedInfo !== undefined) target.shinfoDump = d.sharedInfo;
    return ev;
  }
}
