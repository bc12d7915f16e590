import { errorFromErrno, InvalidArgumentError } from '../errors.js';
import type { BpfMap } from '../map/map.js';
import type { FdWatcher, MappedRegion } from '../sys/backend.js';
import { Errno } from '../sys/errno.js';
import { MapType } from '../sys/generated/constants.js';
import { Mmap, PAGE_SIZE } from './mmap.js';

const BUSY = 0x8000_0000;
const DISCARD = 0x4000_0000;
const HEADER = 8;

/**
 * Called for each record with a zero-copy view: the record's bytes are
 * `data[offset .. offset+length)`. The view is only valid during the call.
 */
export type RecordHandler = (data: DataView, offset: number, length: number) => void;

/**
 * Reads a BPF ring buffer map (BPF_MAP_TYPE_RINGBUF) from user space: the consumer page is
 * mapped read-write, the producer page and the data read-only. The kernel could map the data
 * area twice back to back, making every record contiguous, but every mapped page counts in the
 * process's resident memory (8 MiB for a 4 MiB ring): it is mapped once, records are read in
 * place, and the rare record that wraps past the end is copied together into a scratch buffer.
 * Wakeups come from the map fd's readiness on Node's event loop (libuv epoll): no thread
 * blocks and nothing busy-waits.
 */
export class RingBufReader implements Disposable, AsyncIterable<Uint8Array> {
  /** Size of the data area in bytes. */
  readonly size: number;
  private readonly consumer: MappedRegion;
  private readonly producer: MappedRegion;
  private readonly consumerView: DataView;
  private readonly producerView: DataView;
  /** The data area (mapped once: size bytes). */
  private readonly data: DataView;
  /** Where a record wrapping past the end of the data area is put together. */
  private scratch = new DataView(new ArrayBuffer(0));
  private watcher: FdWatcher | undefined;
  private closed = false;
  private waiters: Array<() => void> = [];
  /** Records delivered so far. */
  delivered = 0;
  /** Records the producer discarded (bpf_ringbuf_discard), skipped. */
  discarded = 0;

  constructor(private readonly map: BpfMap) {
    if (map.type !== MapType.RINGBUF) {
      throw new InvalidArgumentError(
        Errno.EINVAL,
        `read ring buffer from map "${map.name}"`,
        'the map is not a BPF_MAP_TYPE_RINGBUF',
      );
    }
    this.size = map.maxEntries;
    const b = map.backend;
    this.consumer = Mmap.map(b, PAGE_SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE, map.fd, 0, 'ring buffer consumer page');
    try {
      this.producer = Mmap.map(b, PAGE_SIZE + this.size, Mmap.PROT_READ, map.fd, PAGE_SIZE, 'ring buffer data');
    } catch (e) {
      b.munmap(this.consumer.address, this.consumer.length);
      throw e;
    }
    this.consumerView = new DataView(this.consumer.buffer);
    this.producerView = new DataView(this.producer.buffer, 0, PAGE_SIZE);
    this.data = new DataView(this.producer.buffer, PAGE_SIZE, this.size);
  }

  private readPos(v: DataView): number {
    return v.getUint32(0, true) + v.getUint32(4, true) * 0x1_0000_0000;
  }

  /** Bytes written by the producer and not yet consumed. */
  get pending(): number {
    if (this.closed) return 0;
    return this.readPos(this.producerView) - this.readPos(this.consumerView);
  }

  /**
   * Delivers every committed record to `handler` (zero copy) and advances the consumer
   * position; returns the number of records delivered. Stops at a record still being written.
   */
  consume(handler: RecordHandler, max = Infinity): number {
    if (this.closed) return 0;
    const data = this.data;
    const size = this.size;
    let cons = this.readPos(this.consumerView);
    let prod = this.readPos(this.producerView);
    let n = 0;
    let sincePublish = 0;
    while (cons < prod && n < max) {
      const off = cons % size;
      const hdr = data.getUint32(off, true);
      if (hdr & BUSY) break; // reserved but not yet committed
      const len = hdr & 0x3fff_ffff;
      if (hdr & DISCARD) this.discarded++;
      else {
        // Headers are 8-byte aligned in a ring of whole pages: only the body can wrap.
        const start = off + HEADER < size ? off + HEADER : 0;
        if (start + len <= size) handler(data, start, len);
        else handler(this.wrapped(start, len), 0, len);
        n++;
      }
      cons += (len + HEADER + 7) & ~7;
      if (++sincePublish === 1024) {
        this.publish(cons);
        sincePublish = 0;
      }
      if (cons >= prod) prod = this.readPos(this.producerView);
    }
    this.publish(cons);
    this.delivered += n;
    return n;
  }

  /** The `len` bytes from `start` on, wrapping to the data area's beginning, in one piece. */
  private wrapped(start: number, len: number): DataView {
    if (this.scratch.byteLength < len)
      this.scratch = new DataView(new ArrayBuffer(Math.max(len, 2 * this.scratch.byteLength)));
    const out = new Uint8Array(this.scratch.buffer, 0, len);
    const head = this.size - start;
    out.set(new Uint8Array(this.data.buffer, this.data.byteOffset + start, head));
    out.set(new Uint8Array(this.data.buffer, this.data.byteOffset, len - head), head);
    return this.scratch;
  }

  /** Publishes the consumer position (low word first, so it never overstates progress). */
  private publish(cons: number): void {
    this.consumerView.setUint32(0, cons % 0x1_0000_0000, true);
    this.consumerView.setUint32(4, Math.floor(cons / 0x1_0000_0000), true);
  }

  /** Copies all committed records out (convenience; {@link consume} avoids the copies). */
  readAll(max = Infinity): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.consume((d, o, l) => out.push(new Uint8Array(d.buffer, d.byteOffset + o, l).slice()), max);
    return out;
  }

  /**
   * Calls `handler` for records as they arrive, from Node's event loop, until close().
   * `onBatch` (optional) runs after each drained batch with its size.
   */
  subscribe(handler: RecordHandler, onBatch?: (count: number) => void): void {
    if (this.watcher) throw new InvalidArgumentError(Errno.EBUSY, 'subscribe to ring buffer', 'already subscribed');
    this.watcher = this.map.backend.watch(this.map.fd, () => {
      const n = this.consume(handler);
      if (n) onBatch?.(n);
    });
    // Records committed before the watcher started.
    const n = this.consume(handler);
    if (n) onBatch?.(n);
  }

  /**
   * Resolves when records are pending (or the reader closes), woken by the map fd on Node's
   * event loop. For pull-style consumers that {@link consume} at their own pace.
   */
  wait(): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed || this.pending > 0) return resolve();
      this.waiters.push(resolve);
      if (!this.watcher) {
        this.watcher = this.map.backend.watch(this.map.fd, () => {
          const w = this.waiters;
          this.waiters = [];
          for (const f of w) f();
        });
      }
    });
  }

  /** Async iteration over copies of records, in batches under the hood; ends on close(). */
  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    while (!this.closed) {
      const batch = this.readAll();
      if (batch.length === 0) {
        await this.wait();
        continue;
      }
      for (const r of batch) yield r;
    }
  }

  /** Stops watching, unmaps the buffer and ends iterators. Does not close the map. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watcher?.close();
    this.watcher = undefined;
    const b = this.map.backend;
    const r1 = b.munmap(this.producer.address, this.producer.length);
    const r2 = b.munmap(this.consumer.address, this.consumer.length);
    for (const f of this.waiters) f();
    this.waiters = [];
    if (r1 < 0 || r2 < 0) throw errorFromErrno(Math.min(r1, r2), { operation: 'munmap ring buffer' });
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
