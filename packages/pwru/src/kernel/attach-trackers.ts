/**
 * The kernel side of skb tracking: its maps, and loading and attaching the map-maintenance
 * programs planned by `plan/skb-tracking.ts`.
 */
import { link } from 'bpf-asm-ts';
import {
  AttachType,
  attachKprobe,
  attachTracing,
  BpfMap,
  Errno,
  MapType,
  NotFoundError,
  Program,
  ProgramType,
  SyscallError,
} from 'bpf-loader-ts';
import { PwruError } from '../errors.js';
import { TRACK_MAPS } from '../generate/tracking-code.js';
import type { TrackerProgram } from '../plan/skb-tracking.js';
import type { Attachment } from './session.js';

/** Entries of the address map: skbs in flight at once that matched (upstream: 1024, then silently full). */
export const TRACKED_SKBS = 16384;

/**
 * Creates the tracking maps, by the names the generated programs use ({@link TRACK_MAPS}).
 * The address and stack maps are LRU hashes: an skb freed where pwru cannot see it (or a stack
 * that never frees) ages out instead of filling the map, where upstream's plain hash stops
 * tracking new skbs once full. Other generated programs (e.g. XDP tracing, to link
 * `data_hard_start` with `skb->head`) reach them by the same names.
 */
export function createTrackMaps(): Record<string, BpfMap> {
  const made: BpfMap[] = [];
  const make = (name: string, type: MapType, keySize: number, maxEntries: number): BpfMap => {
    const m = BpfMap.create({ name, type, keySize, valueSize: 8, maxEntries });
    made.push(m);
    return m;
  };
  try {
    return {
      [TRACK_MAPS.skbs]: make(TRACK_MAPS.skbs, MapType.LRU_HASH, 8, TRACKED_SKBS),
      [TRACK_MAPS.stackidSkb]: make(TRACK_MAPS.stackidSkb, MapType.LRU_HASH, 8, 4096),
      [TRACK_MAPS.skbStackid]: make(TRACK_MAPS.skbStackid, MapType.LRU_HASH, 8, 4096),
      [TRACK_MAPS.pending]: make(TRACK_MAPS.pending, MapType.HASH, 16, 4096),
      [TRACK_MAPS.xdpHeads]: make(TRACK_MAPS.xdpHeads, MapType.LRU_HASH, 8, 4096),
    };
  } catch (e) {
    for (const m of made) m.close();
    throw e;
  }
}

/** The function is not there to probe: absent, inlined, ambiguous or not traceable (as upstream ignores). */
function isMissingTarget(e: unknown): boolean {
  return (
    e instanceof NotFoundError ||
    (e instanceof SyscallError && (e.errno === Errno.EADDRNOTAVAIL || e.errno === Errno.EINVAL))
  );
}

function describeHook(t: TrackerProgram): string {
  const h = t.hook;
  return h.type === 'tracepoint'
    ? `tracepoint ${h.name}`
    : h.type === 'kprobe'
      ? `${h.retprobe ? 'kretprobe' : 'kprobe'} ${h.fn}`
      : `${h.type} ${h.fn}`;
}

/** A tracking program that could not be loaded or attached; `what` names its hook. */
export class TrackerError extends PwruError {
  override name = 'TrackerError';
  constructor(
    readonly what: string,
    reason: unknown,
  ) {
    super(
      `cannot attach the skb-tracking program at ${what}: ${reason instanceof Error ? reason.message.split('\n')[0] : String(reason)}`,
    );
  }
}

/** Loads one tracking program with `maps` (not attached); a verifier rejection throws. */
export function loadTracker(t: TrackerProgram, maps: Record<string, BpfMap>): Program {
  const h = t.hook;
  return Program.load({
    name: t.name,
    instructions: link(t.insns),
    maps,
    ...(h.type === 'kprobe'
      ? { type: ProgramType.KPROBE }
      : {
          type: ProgramType.TRACING,
          expectedAttachType:
            h.type === 'tracepoint'
              ? AttachType.TRACE_RAW_TP
              : h.type === 'fentry'
                ? AttachType.TRACE_FENTRY
                : AttachType.TRACE_FEXIT,
          attachBtfId: h.btfId,
        }),
  });
}

/**
 * Loads and attaches tracking programs with `maps`. Optional targets the kernel lacks are
 * skipped (reported through `skipped`); any other failure closes what this call attached and
 * throws a {@link TrackerError}.
 */
export function attachTrackers(
  trackers: readonly TrackerProgram[],
  maps: Record<string, BpfMap>,
  skipped: (what: string, why: string) => void = () => {},
): { attachments: Attachment[]; programs: Program[] } {
  const programs: Program[] = [];
  const attachments: Attachment[] = [];
  try {
    for (const t of trackers) {
      const what = describeHook(t);
      const h = t.hook;
      let prog: Program;
      try {
        prog = loadTracker(t, maps);
      } catch (e) {
        throw new TrackerError(what, e);
      }
      programs.push(prog);
      try {
        const l =
          h.type === 'kprobe'
            ? attachKprobe(prog, h.fn, { retprobe: h.retprobe })
            : attachTracing(prog, {
                attachType:
                  h.type === 'tracepoint'
                    ? AttachType.TRACE_RAW_TP
                    : h.type === 'fentry'
                      ? AttachType.TRACE_FENTRY
                      : AttachType.TRACE_FEXIT,
                target: what,
              });
        attachments.push({ count: 0, detach: async () => l.close() });
      } catch (e) {
        if (t.optional && isMissingTarget(e)) {
          skipped(what, (e as Error).message.split('\n')[0]!);
          continue;
        }
        throw new TrackerError(what, e);
      }
    }
    return { attachments, programs };
  } catch (e) {
    for (const a of attachments) void a.detach(() => {});
    for (const p of programs) p.close();
    throw e;
  }
}
