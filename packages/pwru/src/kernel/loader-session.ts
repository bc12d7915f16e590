import { existsSync } from 'node:fs';
import { link } from 'bpf-asm-ts';
import { type Btf } from 'btf-parser';
import {
  AttachType,
  BpfMap,
  BusyError,
  findTracefs,
  InvalidArgumentError,
  mountTracefs,
  NotFoundError,
  NotSupportedError,
  MapType,
  PermissionError,
  Program,
  probeLinkType,
  shareKernelBtf,
  RingBufReader,
  ProgramType,
  sumPerCpuCounter,
  VerifierError,
} from 'bpf-loader-ts';
import type { KernelFeatures } from '../backend.js';
import { Ksyms } from '../ksyms.js';
import { ownMissingBpfPrivileges } from '../privileges.js';
import { readAvailableFilterFunctions } from '../discovery/functions.js';
import { ProgramRefusedError, PwruError } from '../errors.js';
import type { Addr64 } from '../event.js';
import type { PlannedProgram } from '../plan/programs.js';
import { DUMP_MAPS } from '../generate/skb-dump.js';
import { PACKET_MAPS } from '../generate/skb-packet.js';
import { RETURN_KEY_SIZE, RETURN_MAP, RETURN_MAP_ENTRIES, RETURN_SCRATCH_MAP } from '../generate/return.js';
import { attachPlanned } from './attach.js';
import { type BpfProgInfo, loadBpfProgTracer, tcAndXdpPrograms } from './bpf-progs.js';
import { openRingReader } from './ring.js';
import { attachTrackers, createTrackMaps } from './attach-trackers.js';
import type { TrackerProgram } from '../plan/skb-tracking.js';
import { probeRawTpCookies } from './raw-tp-cookies.js';
import type { AttachResult, Attachment, KernelSession, LoadedProgram, MapOptions, RingReader } from './session.js';

/** `PERF_MAX_STACK_DEPTH`: frames per stack-trace map entry. */
const STACK_DEPTH = 127;

/** A program this session loaded. */
export interface SessionProgram extends LoadedProgram {
  readonly program: Program;
}

/** The real kernel session, through bpf-loader-ts. */
export class LoaderSession implements KernelSession {
  private maps?: {
    events: BpfMap;
    lost: BpfMap;
    stacks?: BpfMap;
    dumpRing?: BpfMap;
    dumpBuf?: BpfMap;
    packetRing?: BpfMap;
    packetBuf?: BpfMap;
    returns?: { entries: BpfMap; scratch: BpfMap };
  };
  private dumpReader?: RingBufReader;
  private packetReader?: RingBufReader;
  private trackMaps?: Record<string, BpfMap>;
  private readonly programs: Program[] = [];
  private readonly closers: Array<() => void> = [];
  private cachedFeatures?: KernelFeatures;
  private fentryError?: string;
  private ksyms?: Ksyms;

  /**
   * `btf`: the kernel BTF pwru plans with. `runningKernel`: it was parsed from the running
   * kernel's /sys/kernel/btf/vmlinux (no --kernel-btf), so the loader's feature probes and attach
   * targets use it too instead of parsing that file a second time.
   */
  constructor(
    private readonly btf: Btf,
    private readonly batch: number,
    runningKernel = false,
  ) {
    if (runningKernel) shareKernelBtf(btf);
  }

  missingPrivileges(): string | undefined {
    return ownMissingBpfPrivileges();
  }

  features(): KernelFeatures {
    this.cachedFeatures ??= {
      kprobes: this.probeLink('kprobe'),
      kprobeMulti: this.probeLink('kprobe_multi'),
      availableFilterFunctions: readAvailableFilterFunctions() !== undefined,
      tpBtf: existsSync('/sys/kernel/btf/vmlinux') || this.btf.findType('btf_trace_kfree_skb', 'typedef') !== undefined,
      fentry: this.probeLink('tracing'),
    };
    return this.cachedFeatures;
  }

  haveFuncIp(): boolean {
    return this.haveHelper('BPF_FUNC_get_func_ip');
  }

  haveFuncArg(): boolean {
    return this.haveHelper('BPF_FUNC_get_func_arg');
  }

  haveRawTpCookies(): boolean {
    return probeRawTpCookies(); // cached by the loader's probe
  }

  /** Whether the kernel's `enum bpf_func_id` lists a helper. */
  private haveHelper(name: string): boolean {
    const e = this.btf.findType('bpf_func_id', 'enum');
    return e !== undefined && e.kind === 'enum' && e.values.some((v) => v.name === name);
  }

  /**
   * kprobe-multi needs CONFIG_FPROBE; fentry needs a trampoline (some kernels, and this project's
   * development machine, refuse the load with EPERM even as root). The loader's feature probes
   * attach a do-nothing program for an instant and say why not.
   */
  private probeLink(kind: 'kprobe' | 'kprobe_multi' | 'tracing'): boolean {
    try {
      const r = probeLinkType(kind);
      if (!r.supported && kind === 'tracing') this.fentryError = r.detail ?? `${r.feature} are not supported`;
      return r.supported;
    } catch (e) {
      // Without privileges the probe cannot tell; missingPrivileges() reports that on its own.
      if (kind === 'tracing') this.fentryError = (e as Error).message.split('\n')[0];
      return false;
    }
  }

  ensureTracefs(): string | undefined {
    // Only the kprobe backends read tracefs (available_filter_functions); only root can mount.
    if (this.cachedFeatures !== undefined || !this.probeLink('kprobe') || findTracefs() !== undefined) return undefined;
    if (process.getuid?.() !== 0) return undefined;
    return mountTracefs().path;
  }

  fentryRefusal(): string | undefined {
    if (this.features().fentry) return undefined;
    return this.fentryError ?? 'the kernel has no kfree_skbmem to probe fentry with';
  }

  bpfPrograms(): BpfProgInfo[] {
    try {
      return tcAndXdpPrograms();
    } catch (e) {
      throw friendly(e, 'list the loaded BPF programs');
    }
  }

  createMaps(o: MapOptions): void {
    try {
      const events = BpfMap.create({
        name: 'events',
        type: MapType.RINGBUF,
        keySize: 0,
        valueSize: 0,
        maxEntries: o.ringBytes,
      });
      const lost = BpfMap.create({
        name: 'lost_events',
        type: MapType.PERCPU_ARRAY,
        keySize: 4,
        valueSize: 8,
        maxEntries: 1,
      });
      const stacks = o.stacks
        ? BpfMap.create({
            name: 'stacks',
            type: MapType.STACK_TRACE,
            keySize: 4,
            valueSize: 8 * STACK_DEPTH,
            maxEntries: 4096,
          })
        : undefined;
      const returns = o.returns ? createReturnMaps(o.returns.eventSize) : undefined;
      this.maps = { events, lost, ...(stacks ? { stacks } : {}), ...(returns ? { returns } : {}) };
      if (o.dumps) {
        this.maps.dumpRing = BpfMap.create({
          name: DUMP_MAPS.ring,
          type: MapType.RINGBUF,
          keySize: 0,
          valueSize: 0,
          maxEntries: o.dumps.ringBytes,
        });
        this.maps.dumpBuf = BpfMap.create({
          name: DUMP_MAPS.buffer,
          type: MapType.PERCPU_ARRAY,
          keySize: 4,
          valueSize: o.dumps.bufferValueSize,
          maxEntries: 1,
        });
      }
      if (o.packets) {
        this.maps.packetRing = BpfMap.create({
          name: PACKET_MAPS.ring,
          type: MapType.RINGBUF,
          keySize: 0,
          valueSize: 0,
          maxEntries: o.packets.ringBytes,
        });
        this.maps.packetBuf = BpfMap.create({
          name: PACKET_MAPS.buffer,
          type: MapType.PERCPU_ARRAY,
          keySize: 4,
          valueSize: o.packets.bufferValueSize,
          maxEntries: 1,
        });
      }
      if (o.track) this.trackMaps = createTrackMaps();
    } catch (e) {
      throw friendly(e, 'create BPF maps');
    }
  }

  load(p: PlannedProgram): SessionProgram {
    if (!this.maps) throw new PwruError('internal: maps must exist before programs load');
    const maps: Record<string, BpfMap> = { events: this.maps.events, lost_events: this.maps.lost };
    if (this.maps.stacks) maps.stacks = this.maps.stacks;
    if (this.trackMaps) Object.assign(maps, this.trackMaps);
    if (this.maps.dumpRing && this.maps.dumpBuf) {
      maps[DUMP_MAPS.ring] = this.maps.dumpRing;
      maps[DUMP_MAPS.buffer] = this.maps.dumpBuf;
    }
    if (this.maps.packetRing && this.maps.packetBuf) {
      maps[PACKET_MAPS.ring] = this.maps.packetRing;
      maps[PACKET_MAPS.buffer] = this.maps.packetBuf;
    }
    if (this.maps.returns) {
      maps[RETURN_MAP] = this.maps.returns.entries;
      maps[RETURN_SCRATCH_MAP] = this.maps.returns.scratch;
    }
    if (p.attach.type === 'bpf-prog') {
      const a = p.attach;
      try {
        const program = loadBpfProgTracer({
          name: p.name,
          target: a.target,
          mode: a.mode,
          instructions: link(p.insns),
          maps,
        });
        this.programs.push(program);
        return { planned: p, program };
      } catch (e) {
        throw friendly(
          e,
          `load the ${a.mode} program for ${a.target.hook} program ${a.target.name} (id ${a.target.id})`,
        );
      }
    }
    const kind = p.kind;
    const spec = {
      name: p.name,
      instructions: link(p.insns),
      maps,
      ...(p.attach.type === 'raw-tracepoints'
        ? { type: ProgramType.RAW_TRACEPOINT }
        : kind === 'tracepoint'
          ? {
              type: ProgramType.TRACING,
              expectedAttachType: AttachType.TRACE_RAW_TP,
              attachBtfId: (p.attach as { btfId: number }).btfId,
            }
          : kind === 'fentry' || kind === 'fexit'
            ? {
                type: ProgramType.TRACING,
                expectedAttachType: kind === 'fentry' ? AttachType.TRACE_FENTRY : AttachType.TRACE_FEXIT,
                attachBtfId: (p.attach as { btfId: number }).btfId,
              }
            : kind === 'kprobe-multi' || kind === 'kprobe-multi-return'
              ? { type: ProgramType.KPROBE, expectedAttachType: AttachType.TRACE_KPROBE_MULTI }
              : { type: ProgramType.KPROBE }),
    };
    try {
      const program = Program.load(spec);
      this.programs.push(program);
      return { planned: p, program };
    } catch (e) {
      const a = p.attach;
      const target =
        a.type === 'tracepoint'
          ? `tracepoint ${a.name}`
          : a.type === 'raw-tracepoints'
            ? `tracepoints ${a.tracepoints.map((t) => t.name).join(', ')}`
            : a.type === 'fentry' || a.type === 'fexit'
              ? `${a.type} ${a.function.name}`
              : p.name;
      const err = friendly(e, `load the program for ${target}`);
      if (isRefusal(e)) throw new ProgramRefusedError(err.message, target, refusalReason(e));
      throw err;
    }
  }

  useKsyms(ksyms: Ksyms): void {
    this.ksyms = ksyms;
  }

  async attach(p: LoadedProgram, progress: (n: number) => void, signal: AbortSignal): Promise<AttachResult> {
    if (p.planned.attach.type === 'kprobe-multi' || p.planned.attach.type === 'kprobe-multi-return')
      this.ksyms ??= Ksyms.load();
    try {
      return await attachPlanned((p as SessionProgram).program, p.planned, progress, signal, this.batch, this.ksyms);
    } catch (e) {
      throw friendly(e, `attach ${p.planned.name}`);
    }
  }

  attachTrackers(trackers: readonly TrackerProgram[], skipped: (what: string, why: string) => void): Attachment[] {
    if (!this.trackMaps) throw new PwruError('internal: tracking maps must exist before tracking programs load');
    const r = attachTrackers(trackers, this.trackMaps, skipped);
    this.programs.push(...r.programs);
    return r.attachments;
  }

  reader(): RingReader {
    if (!this.maps) throw new PwruError('internal: no events map');
    const r = openRingReader(this.maps.events);
    this.closers.push(() => r.close());
    return r;
  }

  dumpDrain(): ((each: (view: DataView, offset: number, length: number) => void) => void) | undefined {
    if (!this.maps?.dumpRing) return undefined;
    if (!this.dumpReader) {
      const r = new RingBufReader(this.maps.dumpRing);
      this.dumpReader = r;
      this.closers.push(() => r.close());
    }
    const r = this.dumpReader;
    return (each) => void r.consume(each);
  }

  packetDrain(): ((each: (view: DataView, offset: number, length: number) => void) => void) | undefined {
    if (!this.maps?.packetRing) return undefined;
    if (!this.packetReader) {
      const r = new RingBufReader(this.maps.packetRing);
      this.packetReader = r;
      this.closers.push(() => r.close());
    }
    const r = this.packetReader;
    return (each) => void r.consume(each);
  }

  lost(): number {
    if (!this.maps) return 0;
    return Number(sumPerCpuCounter(this.maps.lost, 0));
  }

  stack(id: number): Addr64[] {
    const m = this.maps?.stacks;
    if (!m) return [];
    const v = m.lookup(id);
    if (!v) return [];
    m.delete(id);
    const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
    const out: Addr64[] = [];
    for (let off = 0; off + 8 <= v.byteLength; off += 8) {
      const lo = view.getUint32(off, true);
      const hi = view.getUint32(off + 4, true);
      if (lo === 0 && hi === 0) break;
      out.push({ hi, lo });
    }
    return out;
  }

  close(): void {
    for (const c of this.closers.splice(0)) c();
    for (const p of this.programs.splice(0)) p.close();
    if (this.maps) {
      this.maps.events.close();
      this.maps.lost.close();
      this.maps.stacks?.close();
      this.maps.dumpRing?.close();
      this.maps.dumpBuf?.close();
      this.dumpReader = undefined;
      this.maps.packetRing?.close();
      this.maps.packetBuf?.close();
      this.packetReader = undefined;
      this.maps.returns?.entries.close();
      this.maps.returns?.scratch.close();
      this.maps = undefined;
    }
    for (const m of Object.values(this.trackMaps ?? {})) m.close();
    this.trackMaps = undefined;
  }
}

/**
 * The `--output-return` maps: entry events by call (an LRU hash, so entries whose return never
 * fires age out) and the per-CPU scratch record they are copied through.
 */
function createReturnMaps(eventSize: number): { entries: BpfMap; scratch: BpfMap } {
  const scratch = BpfMap.create({
    name: RETURN_SCRATCH_MAP,
    type: MapType.PERCPU_ARRAY,
    keySize: 4,
    valueSize: eventSize,
    maxEntries: 1,
  });
  try {
    const entries = BpfMap.create({
      name: RETURN_MAP,
      type: MapType.LRU_HASH,
      keySize: RETURN_KEY_SIZE,
      valueSize: eventSize,
      maxEntries: RETURN_MAP_ENTRIES,
    });
    return { entries, scratch };
  } catch (e) {
    scratch.close();
    throw e;
  }
}

/** `r0 = 0; exit`: the smallest program, for feature probes. */
/**
 * Whether a load failure is the kernel refusing this one program (the verifier, or a target it
 * cannot trace) rather than something that fails every program (privileges, memory, files).
 */
function isRefusal(e: unknown): boolean {
  return (
    e instanceof VerifierError ||
    e instanceof InvalidArgumentError ||
    e instanceof NotSupportedError ||
    e instanceof NotFoundError ||
    e instanceof BusyError
  );
}

function refusalReason(e: unknown): string {
  return (e as Error).message.split('\n')[0]!;
}

/** What pwru says about an EPERM the loader gave no hint for. */
export const ROOT_HINT = 'run pwru as root: it needs CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN';

/** One actionable line for a loader failure; a hint the loader already gave is not repeated. */
export function friendly(e: unknown, what: string): Error {
  if (e instanceof PermissionError)
    return new PwruError(`cannot ${what}: ${e.message.includes(' — ') ? e.message : `${e.message} — ${ROOT_HINT}`}`);
  if (e instanceof VerifierError) return new PwruError(`cannot ${what}: ${e.message}`);
  if (e instanceof PwruError) return e;
  return new PwruError(`cannot ${what}: ${(e as Error).message}`);
}
