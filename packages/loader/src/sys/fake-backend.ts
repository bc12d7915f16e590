import type { SyscallBackend, FdWatcher, MappedRegion, NativeMemory } from './backend.js';

/** Plain JS memory with a fake, unique address (for {@link FakeBackend}). */
class FakeMemory implements NativeMemory {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  constructor(
    readonly address: number,
    readonly size: number,
  ) {
    this.bytes = new Uint8Array(Math.max(1, size));
    this.view = new DataView(this.bytes.buffer);
  }
  free(): void {}
}

/** One recorded call to the fake backend. */
export interface FakeCall {
  /** SyscallBackend method name. */
  readonly op: string;
  /** bpf command (for `bpf`), ioctl request, ... */
  readonly code?: number;
  /** Copy of the attribute bytes at call time (for `bpf` and `perfEventOpen`). */
  readonly attr?: Uint8Array;
}

/**
 * A scriptable backend for unit tests: each bpf command answers with a programmed result
 * (an fd, 0, or a negative errno), and every call is recorded with a copy of its attributes.
 */
export class FakeBackend implements SyscallBackend {
  /** Every call made, in order. */
  readonly calls: FakeCall[] = [];
  /** Closed fds, in order. */
  readonly closed: number[] = [];
  private nextAddress = 0x10000;
  private nextFd = 100;
  private readonly bpfResults = new Map<number, Array<number | ((attr: NativeMemory) => number)>>();
  private readonly memory = new Map<number, FakeMemory>();

  /** Queues results for a bpf command; each call consumes one (the last one repeats). */
  onBpf(cmd: number, ...results: Array<number | ((attr: NativeMemory) => number)>): this {
    this.bpfResults.set(cmd, results);
    return this;
  }

  /** Returns the fake memory block containing `address` (to inspect buffers referenced by attrs). */
  memoryAt(address: number): Uint8Array | undefined {
    for (const m of this.memory.values()) {
      if (address >= m.address && address < m.address + m.size) {
        return m.bytes.subarray(address - m.address);
      }
    }
    return undefined;
  }

  alloc(size: number): NativeMemory {
    const m = new FakeMemory(this.nextAddress, size);
    this.nextAddress += Math.ceil(Math.max(1, size) / 4096 + 1) * 4096;
    this.memory.set(m.address, m);
    return m;
  }
  bpf(cmd: number, attr: NativeMemory, size: number): number {
    this.calls.push({ op: 'bpf', code: cmd, attr: attr.bytes.slice(0, size) });
    const queue = this.bpfResults.get(cmd);
    if (!queue || queue.length === 0) return this.nextFd++;
    const r = queue.length > 1 ? queue.shift()! : queue[0]!;
    return typeof r === 'function' ? r(attr) : r;
  }
  perfEventOpen(attr: NativeMemory): number {
    this.calls.push({ op: 'perfEventOpen', attr: attr.bytes.slice() });
    const name = this.cString(Number(attr.view.getBigUint64(56, true)));
    const r = name === undefined ? undefined : this.perfResults.get(name);
    return r ?? this.nextFd++;
  }

  /** Reads a NUL-terminated string from fake memory. */
  cString(address: number): string | undefined {
    const m = this.memoryAt(address);
    if (!m) return undefined;
    const end = m.indexOf(0);
    return new TextDecoder().decode(m.subarray(0, end < 0 ? m.length : end));
  }
  /** Results for perf_event_open by the function name in config1 (kprobe tests); default: a new fd. */
  readonly perfResults = new Map<string, number>();
  async perfEventOpenAsync(attr: NativeMemory): Promise<number> {
    const r = this.perfEventOpen(attr);
    return r < 0 ? -1 : r;
  }
  async closeAsync(fd: number): Promise<number> {
    return this.close(fd);
  }
  ioctl(fd: number, request: number): number {
    this.calls.push({ op: 'ioctl', code: request });
    return 0;
  }
  close(fd: number): number {
    this.closed.push(fd);
    return 0;
  }
  mmap(length: number): MappedRegion | number {
    const m = this.alloc(length);
    return { address: m.address, length, buffer: m.bytes.buffer as ArrayBuffer };
  }
  munmap(): number {
    return 0;
  }
  eventfd(): number {
    return this.nextFd++;
  }
  write(_fd: number, _buf: NativeMemory, len: number): number {
    return len;
  }
  read(_fd: number, _buf: NativeMemory, len: number): number {
    return len;
  }
  socket(): number {
    return this.nextFd++;
  }
  send(_fd: number, _buf: NativeMemory, len: number): number {
    return len;
  }
  recv(): number {
    return 0;
  }
  /** How many times mallocTrim was called. */
  mallocTrims = 0;
  mallocTrim(): boolean {
    this.mallocTrims++;
    return false;
  }
  /** Resource limits by resource number. */
  readonly limits = new Map<number, [number, number]>();
  getrlimit(resource: number): [number, number] | number {
    return this.limits.get(resource) ?? [1024, 4096];
  }
  setrlimit(resource: number, soft: number, hard: number): number {
    this.limits.set(resource, [soft, hard]);
    return 0;
  }
  /** What each mount call answers (0, or a negative errno); every call is recorded as `mounts`. */
  mountResult = 0;
  /** The mount calls made, in order. */
  readonly mounts: Array<{ source: string; target: string; fstype: string; flags: number }> = [];
  mount(source: string, target: string, fstype: string, flags: number): number {
    this.calls.push({ op: 'mount' });
    this.mounts.push({ source, target, fstype, flags });
    return this.mountResult;
  }
  /** What each setns call answers, in order (the last repeats; default 0); calls are recorded as `setns`. */
  setnsResults: number[] = [];
  /** The setns calls made: the fd and namespace type of each. */
  readonly setnsCalls: Array<{ fd: number; nstype: number }> = [];
  setns(fd: number, nstype: number): number {
    this.calls.push({ op: 'setns', code: nstype });
    this.setnsCalls.push({ fd, nstype });
    const r = this.setnsResults.length > 1 ? this.setnsResults.shift()! : this.setnsResults[0];
    return r ?? 0;
  }
  watch(): FdWatcher {
    return { close() {}, unref() {}, ref() {} };
  }
}
