import { KoffiBackend } from './koffi-backend.js';

/**
 * The one syscall choke point. Every bpf(2), perf_event_open(2), mmap(2), ioctl(2), close(2),
 * eventfd(2) and socket call the loader makes goes through a {@link SyscallBackend}, so unit tests can
 * substitute {@link FakeBackend} and exercise errno paths without a kernel.
 *
 * Calls return the kernel's convention: a non-negative result, or a negative errno.
 */

/** A block of native (non-moving) memory whose address can be handed to the kernel. */
export interface NativeMemory {
  /** Address of the first byte, as a JS number (user-space addresses fit in 47 bits). */
  readonly address: number;
  /** Size in bytes. */
  readonly size: number;
  /** Byte view over the memory (zero copy). */
  readonly bytes: Uint8Array;
  /** DataView over the memory (zero copy). */
  readonly view: DataView;
  /** Releases the memory. Touching the views afterwards is undefined behaviour. */
  free(): void;
}

/** A region returned by mmap. */
export interface MappedRegion {
  /** Start address. */
  readonly address: number;
  /** Length in bytes. */
  readonly length: number;
  /** Zero-copy, live view of the mapping (invalid after munmap). */
  readonly buffer: ArrayBuffer;
}

/** An fd readiness watcher running on Node's event loop (libuv poll; no thread, no busy wait). */
export interface FdWatcher {
  /** Stops watching and releases the watcher. */
  close(): void;
  /** Lets the process exit while the watcher is active. */
  unref(): void;
  /** Keeps the process alive while the watcher is active (default). */
  ref(): void;
}

/** Everything the loader needs from the operating system. */
export interface SyscallBackend {
  /**
   * Lift RLIMIT_MEMLOCK before the first map, program or BTF creation when the kernel charges
   * BPF memory to it (Linux < 5.11; sys/memlock.ts). True for the real backend.
   */
  readonly raiseMemlock?: boolean;
  /** Allocates zeroed native memory. */
  alloc(size: number): NativeMemory;
  /** bpf(cmd, attr, size). */
  bpf(cmd: number, attr: NativeMemory, size: number): number;
  /** perf_event_open(attr, pid, cpu, group_fd, flags). */
  perfEventOpen(attr: NativeMemory, pid: number, cpu: number, groupFd: number, flags: number): number;
  /**
   * perf_event_open on a libuv pool thread (for attaching many kprobes in parallel). Resolves to
   * the fd, or -1 on failure: errno is not observable across threads, so callers repeat a failed
   * call synchronously to learn why.
   */
  perfEventOpenAsync(attr: NativeMemory, pid: number, cpu: number, groupFd: number, flags: number): Promise<number>;
  /** close(fd) on a libuv pool thread (closing a kprobe waits for an RCU grace period). */
  closeAsync(fd: number): Promise<number>;
  /** ioctl(fd, request, arg) with an integer (or address) argument. */
  ioctl(fd: number, request: number, arg: number): number;
  /** close(fd). */
  close(fd: number): number;
  /** mmap(NULL, length, prot, flags, fd, offset); returns the region or a negative errno. */
  mmap(length: number, prot: number, flags: number, fd: number, offset: number): MappedRegion | number;
  /** munmap(address, length). */
  munmap(address: number, length: number): number;
  /** eventfd(initval, flags). */
  eventfd(initval: number, flags: number): number;
  /** write(fd, buf, len). */
  write(fd: number, buf: NativeMemory, len: number): number;
  /** read(fd, buf, len). */
  read(fd: number, buf: NativeMemory, len: number): number;
  /** socket(domain, type, protocol). */
  socket(domain: number, type: number, protocol: number): number;
  /** sendto(fd, buf, len, flags, NULL, 0) — for an already bound netlink socket. */
  send(fd: number, buf: NativeMemory, len: number, flags: number): number;
  /** recv(fd, buf, len, flags). */
  recv(fd: number, buf: NativeMemory, len: number, flags: number): number;
  /** getrlimit(resource) into [soft, hard] (RLIM_INFINITY as Infinity), or a negative errno. */
  getrlimit(resource: number): [number, number] | number;
  /** setrlimit(resource, soft, hard) (Infinity for RLIM_INFINITY). */
  setrlimit(resource: number, soft: number, hard: number): number;
  /** mount(2): mounts `fstype` from `source` at `target` (no data); 0 or a negative errno. */
  mount(source: string, target: string, fstype: string, flags: number): number;
  /**
   * setns(fd, nstype): moves the calling thread (Node's main thread, where every synchronous
   * call runs) into the namespace `fd` refers to; 0 or a negative errno.
   */
  setns(fd: number, nstype: number): number;
  /**
   * glibc's malloc_trim(0): hands the free memory at the top of every malloc arena (and whole
   * free pages inside them) back to the kernel; true when some was released.
   */
  mallocTrim(): boolean;
  /** Calls `onReadable` whenever fd is readable, from Node's event loop. */
  watch(fd: number, onReadable: () => void): FdWatcher;
}

let current: SyscallBackend | undefined;

/** Returns the process-wide backend, creating the koffi one on first use. */
export function defaultBackend(): SyscallBackend {
  if (!current) current = new KoffiBackend();
  return current;
}

/** Replaces the process-wide backend (tests); returns the previous one. */
export function setDefaultBackend(backend: SyscallBackend | undefined): SyscallBackend | undefined {
  const prev = current;
  current = backend;
  return prev;
}
