import type { Ksyms } from '../ksyms.js';
import type { KernelFeatures } from '../backend.js';
import type { Addr64 } from '../event.js';
import type { BpfProgInfo } from './bpf-progs.js';
import type { PlannedProgram } from '../plan/programs.js';
import type { TrackerProgram } from '../plan/skb-tracking.js';

/** A loaded program ready to attach. */
export interface LoadedProgram {
  readonly planned: PlannedProgram;
}

/** Something attached; closing it detaches. */
export interface Attachment {
  /** How many targets it covers (for the detach progress bar). */
  readonly count: number;
  /** Detaches, reporting each detached target. */
  detach(progress: (n: number) => void): Promise<void>;
}

/** Result of attaching one program to its targets. */
export interface AttachResult {
  readonly attachments: Attachment[];
  /** Targets that could not be attached for a reason upstream ignores (missing symbol, EADDRNOTAVAIL). */
  readonly ignored: number;
  /** Why some of the ignored targets failed (for `--debug`; may list fewer than `ignored`). */
  readonly failures?: readonly IgnoredTarget[];
}

/** A target skipped, and the kernel's reason. */
export interface IgnoredTarget {
  /** e.g. `fentry dst_blackhole_neigh_lookup`, `kprobe do_int3`. */
  readonly target: string;
  /** One line. */
  readonly error: string;
}

/** Reads the events ring buffer. */
export interface RingReader {
  /**
   * Calls `each` for every record as records arrive (from the event loop, woken by the map's
   * fd: no busy polling), and `onBatch` after each drained batch. The view is valid only
   * during the call.
   */
  subscribe(each: (view: DataView, offset: number, size: number) => void, onBatch: () => void): void;
  /**
   * Pull mode (instead of subscribe): delivers up to `max` waiting records to `each` and returns
   * how many. Records not taken stay in the ring buffer.
   */
  consume(each: (view: DataView, offset: number, size: number) => void, max: number): number;
  /** Pull mode: resolves when records are waiting, or the reader closes. */
  wait(): Promise<void>;
  /** Stops reading. */
  close(): void;
}

/** Options of the maps the generated programs use. */
export interface MapOptions {
  /** Ring buffer size in bytes (a power of two, multiple of the page size). */
  readonly ringBytes: number;
  /** Whether `--output-stack` needs a stack-trace map. */
  readonly stacks: boolean;
  /** `--output-skb` / `--output-skb-shared-info`: the dump ring and per-CPU buffer sizes. */
  readonly dumps?: { readonly ringBytes: number; readonly bufferValueSize: number };
  /** `--output-pcapng`: the packet ring and per-CPU buffer sizes. */
  readonly packets?: { readonly ringBytes: number; readonly bufferValueSize: number };
  /** `--output-return`: the map of entry events awaiting return, holding records of this size. */
  readonly returns?: { readonly eventSize: number };
  /** Whether skb tracking needs its maps (see `kernel/attach-trackers.ts`). */
  readonly track?: boolean;
}

/**
 * The kernel side of a run: the only part of pwru that makes syscalls (through bpf-loader-ts).
 * Everything else — discovery, generation, decoding, printing — is pure and testable.
 */
export interface KernelSession {
  /**
   * Why this process may not load BPF programs at all (one line saying what to do), or undefined.
   * Asked before {@link features}: without privileges every probe fails as if the feature were missing.
   */
  missingPrivileges?(): string | undefined;
  /** What this kernel supports (probed once). */
  features(): KernelFeatures;
  /** Whether `bpf_get_func_ip` exists for kprobe/fentry programs (5.15+). */
  haveFuncIp(): boolean;
  /** Whether `bpf_get_func_arg` exists for fentry programs (5.17+): reads arguments of any BTF type. */
  haveFuncArg?(): boolean;
  /**
   * Whether raw tracepoint links take BPF cookies (6.10+), so one raw_tp program can serve
   * several tracepoints (each link's cookie names its tracepoint).
   */
  haveRawTpCookies?(): boolean;
  /** tc and XDP programs loaded on the system, with their BTF functions (`--filter-trace-tc/-xdp`). */
  bpfPrograms?(): BpfProgInfo[];
  /** Why this kernel refuses fentry programs (one line, e.g. the EPERM), or undefined if it allows them. */
  fentryRefusal?(): string | undefined;
  /**
   * Mounts tracefs when this kernel has kprobes, tracefs is mounted nowhere and the process is
   * root (a freshly booted machine or a container); returns where it mounted it, or undefined
   * when nothing was done. Call before {@link features}. Throws when the mount itself fails.
   */
  ensureTracefs?(): string | undefined;
  /**
   * Hands the session the kernel symbols the run already parsed (kprobe-multi attaches by
   * address), so /proc/kallsyms is not parsed a second time.
   */
  useKsyms?(ksyms: Ksyms): void;
  /** Creates the events ring buffer, the per-CPU lost counter and the stack map. */
  createMaps(o: MapOptions): void;
  /** Loads one program; a verifier rejection throws with the log's summary. */
  load(p: PlannedProgram): LoadedProgram;
  /** Attaches `p` to each of its targets, calling `progress` per target. */
  attach(p: LoadedProgram, progress: (n: number) => void, signal: AbortSignal): Promise<AttachResult>;
  /**
   * Loads and attaches skb-tracking programs (no events, no progress bar); optional targets the
   * kernel lacks are reported to `skipped`. Detaching is the attachments' business.
   */
  attachTrackers?(trackers: readonly TrackerProgram[], skipped: (what: string, why: string) => void): Attachment[];
  reader(): RingReader;
  /** Reads the dump ring synchronously (undefined when the run makes no dumps). */
  dumpDrain?(): ((each: (view: DataView, offset: number, length: number) => void) => void) | undefined;
  /** Reads the packet ring synchronously (undefined when the run copies no packets). */
  packetDrain?(): ((each: (view: DataView, offset: number, length: number) => void) => void) | undefined;
  /** Reserve failures so far, summed over CPUs. */
  lost(): number;
  /** Instruction pointers of a stack id (removing it from the map). */
  stack(id: number): Addr64[];
  /** Detaches and closes everything still open. */
  close(): void;
}
