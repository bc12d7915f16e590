import { errorFromErrno, InvalidArgumentError } from '../errors.js';
import { PERF_COUNT_SW_BPF_OUTPUT, PERF_SAMPLE_RAW, PerfIoctl, PerfType, perfEventOpen } from '../link/perf-event.js';
import type { BpfMap } from '../map/map.js';
import { PerfEventMmapPage } from '../sys/attr.js';
import type { FdWatcher, MappedRegion } from '../sys/backend.js';
import { onlineCpus } from '../sys/cpus.js';
import { Errno } from '../sys/errno.js';
import { MapType } from '../sys/generated/constants.js';
import { Mmap, PAGE_SIZE } from './mmap.js';

const PERF_RECORD_LOST = 2;
const PERF_RECORD_SAMPLE = 9;

/**
 * Called per sample with a view of its raw bytes `data[offset .. offset+length)`; `length`
 * includes the kernel's padding to 8-byte alignment (up to 7 trailing bytes). Valid only
 * during the call.
 */
export type SampleHandler = (data: DataView, offset: number, length: number, cpu: number) => void;

interface Ring {
  cpu: number;
  fd: number;
  region: MappedRegion;
  meta: DataView;
  data: DataView;
  size: number;
  watcher?: FdWatcher;
}

/** Options of {@link PerfBufReader}. */
export interface PerfBufOptions {
  /** Data pages per CPU (a power of two; default 16 = 64 KiB). */
  readonly pagesPerCpu?: number;
  /** Wake up after this many samples (default 1). */
  readonly wakeupEvents?: number;
}

/**
 * Reads a BPF perf event array (bpf_perf_event_output): one PERF_COUNT_SW_BPF_OUTPUT event and
 * one mmap'ed ring per online CPU, installed into the map. LOST records are counted in
 * {@link lost}. Wakeups come from each ring's fd on Node's event loop.
 */
export class PerfBufReader implements Disposable, AsyncIterable<Uint8Array> {
  /** Samples the kernel dropped because a ring was full. */
  lost = 0;
  /** Samples delivered. */
  delivered = 0;
  private readonly rings: Ring[] = [];
  private scratch = new Uint8Array(256);
  private closed = false;
  private waiters: Array<() => void> = [];
  private subscribed = false;

  constructor(
    private readonly map: BpfMap,
    opts: PerfBufOptions = {},
  ) {
    if (map.type !== MapType.PERF_EVENT_ARRAY) {
      throw new InvalidArgumentError(
        Errno.EINVAL,
        `read perf buffer from map "${map.name}"`,
        'the map is not a BPF_MAP_TYPE_PERF_EVENT_ARRAY',
      );
    }
    const pages = opts.pagesPerCpu ?? 16;
    if (pages < 1 || (pages & (pages - 1)) !== 0) {
      throw new InvalidArgumentError(
        Errno.EINVAL,
        'open perf buffer',
        `pagesPerCpu must be a power of two (got ${pages})`,
      );
    }
    const b = map.backend;
    try {
      for (const cpu of onlineCpus()) {
        if (cpu >= map.maxEntries) break;
        const fd = perfEventOpen(b, {
          attr: {
            type: PerfType.SOFTWARE,
            config: PERF_COUNT_SW_BPF_OUTPUT,
            sampleType: PERF_SAMPLE_RAW,
            samplePeriod: 1,
            wakeupEvents: opts.wakeupEvents ?? 1,
          },
          cpu,
          ctx: { operation: `perf_event_open bpf-output on CPU ${cpu}` },
        });
        let region: MappedRegion;
        try {
          region = Mmap.map(
            b,
            (pages + 1) * PAGE_SIZE,
            Mmap.PROT_READ | Mmap.PROT_WRITE,
            fd,
            0,
            `perf ring of CPU ${cpu}`,
          );
        } catch (e) {
          b.close(fd);
          throw e;
        }
        const meta = new DataView(region.buffer, 0, PAGE_SIZE);
        const size = pages * PAGE_SIZE;
        this.rings.push({ cpu, fd, region, meta, data: new DataView(region.buffer, PAGE_SIZE, size), size });
        const e = b.ioctl(fd, PerfIoctl.ENABLE, 0);
        if (e < 0) throw errorFromErrno(e, { operation: `enable perf event on CPU ${cpu}` });
        const k = new Uint8Array(4);
        new DataView(k.buffer).setUint32(0, fd, true);
        map.update(cpu, k);
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  private static pos(v: DataView, offset: number): number {
    return v.getUint32(offset, true) + v.getUint32(offset + 4, true) * 0x1_0000_0000;
  }

  /** Bytes pending across all rings. */
  get pending(): number {
    let n = 0;
    for (const r of this.rings) {
      n +=
        PerfBufReader.pos(r.meta, PerfEventMmapPage.fields.dataHead.offset) -
        PerfBufReader.pos(r.meta, PerfEventMmapPage.fields.dataTail.offset);
    }
    return n;
  }

  /** Delivers every pending sample of every CPU; returns how many. */
  consume(handler: SampleHandler): number {
    let n = 0;
    for (const r of this.rings) n += this.consumeRing(r, handler);
    this.delivered += n;
    return n;
  }

  private consumeRing(r: Ring, handler: SampleHandler): number {
    const HEAD = PerfEventMmapPage.fields.dataHead.offset;
    const TAIL = PerfEventMmapPage.fields.dataTail.offset;
    const head = PerfBufReader.pos(r.meta, HEAD);
    let tail = PerfBufReader.pos(r.meta, TAIL);
    const size = r.size;
    let n = 0;
    while (tail < head) {
      const off = tail % size;
      // The 8-byte header never wraps (records are 8-byte aligned and size is a multiple of 8).
      const type = r.data.getUint32(off, true);
      const recSize = r.data.getUint16(off + 6, true);
      if (recSize === 0) break;
      let view = r.data;
      let base = off;
      if (off + recSize > size) {
        // The record wraps: copy it into a contiguous scratch buffer.
        if (this.scratch.length < recSize) this.scratch = new Uint8Array(recSize * 2);
        const bytes = new Uint8Array(r.data.buffer, r.data.byteOffset, size);
        const first = size - off;
        this.scratch.set(bytes.subarray(off, size), 0);
        this.scratch.set(bytes.subarray(0, recSize - first), first);
        view = new DataView(this.scratch.buffer, 0, recSize);
        base = 0;
      }
      if (type === PERF_RECORD_SAMPLE) {
        const len = view.getUint32(base + 8, true);
        handler(view, base + 12, len, r.cpu);
        n++;
      } else if (type === PERF_RECORD_LOST) {
        this.lost += view.getUint32(base + 16, true) + view.getUint32(base + 20, true) * 0x1_0000_0000;
      }
      tail += recSize;
    }
    r.meta.setUint32(TAIL, tail % 0x1_0000_0000, true);
    r.meta.setUint32(TAIL + 4, Math.floor(tail / 0x1_0000_0000), true);
    return n;
  }

  /** Copies all pending samples out. */
  readAll(): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.consume((d, o, l) => out.push(new Uint8Array(d.buffer, d.byteOffset + o, l).slice()));
    return out;
  }

  /**
   * Watches every ring's fd. perf's poll reports readiness once per wakeup (it clears the flag
   * as it reports), and epoll registration happens on the next loop turn, so a wakeup that
   * lands in between would be consumed unseen: one explicit check after registration closes
   * that window.
   */
  private watchAll(onReady: () => void): void {
    for (const r of this.rings) r.watcher = this.map.backend.watch(r.fd, onReady);
    setImmediate(() => {
      if (!this.closed && this.pending > 0) onReady();
    });
  }

  /** Calls `handler` for samples as they arrive, from Node's event loop, until close(). */
  subscribe(handler: SampleHandler, onBatch?: (count: number) => void): void {
    if (this.subscribed) throw new InvalidArgumentError(Errno.EBUSY, 'subscribe to perf buffer', 'already subscribed');
    this.subscribed = true;
    const drain = () => {
      const n = this.consume(handler);
      if (n) onBatch?.(n);
    };
    drain();
    this.watchAll(drain);
  }

  /** Async iteration over copies of samples; ends on close(). */
  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    while (!this.closed) {
      const batch = this.readAll();
      if (batch.length) {
        for (const s of batch) yield s;
        continue;
      }
      await new Promise<void>((resolve) => {
        if (this.closed || this.pending > 0) return resolve();
        this.waiters.push(resolve);
        if (!this.subscribed) {
          this.subscribed = true;
          this.watchAll(() => {
            const w = this.waiters;
            this.waiters = [];
            for (const f of w) f();
          });
        }
      });
    }
  }

  /** Removes the events from the map, unmaps and closes them, and ends iterators. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const b = this.map.backend;
    for (const r of this.rings) {
      r.watcher?.close();
      if (!this.map.closed) this.map.delete(r.cpu);
      b.munmap(r.region.address, r.region.length);
      b.close(r.fd);
    }
    this.rings.length = 0;
    for (const f of this.waiters) f();
    this.waiters = [];
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
