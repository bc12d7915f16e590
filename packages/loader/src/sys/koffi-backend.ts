import { createRequire } from 'node:module';
import type koffiModule from 'koffi';
import type { SyscallBackend, FdWatcher, MappedRegion, NativeMemory } from './backend.js';

type Koffi = typeof koffiModule;
let loaded: Koffi | undefined;

/**
 * koffi's native addon, loaded on first use rather than at import time: importing this package
 * (or pwru, for its program generator) must work where the addon cannot load or is not wanted,
 * such as a build step generating programs for another machine.
 */
function koffiAddon(): Koffi {
  // As an ES module, a `require` made for this file; bundled into CommonJS (pwru's code-cached
  // CLI), `import.meta.url` is gone and the bundle's own `require` knows where koffi is. (Not
  // `typeof require`: an ES module build has a `require` stand-in that throws.)
  if (!loaded) {
    const url = import.meta.url;
    loaded = (url ? createRequire(url) : require)('koffi') as Koffi;
  }
  return loaded;
}

const SYS_bpf = 321;
const SYS_perf_event_open = 298;

/** Native memory obtained from libc calloc. */
class CallocMemory implements NativeMemory {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  private freed = false;
  constructor(
    readonly address: number,
    readonly size: number,
    private readonly release: (address: number) => void,
  ) {
    const buf = koffiAddon().view(address, size);
    this.bytes = new Uint8Array(buf);
    this.view = new DataView(buf);
  }
  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.release(this.address);
  }
}

/**
 * The real backend: libc's `syscall`, `mmap`, `ioctl`, ... called through koffi (x86-64 Linux).
 * Addresses travel as JS numbers (`intptr_t`), so no BigInt is created on hot paths.
 */
export class KoffiBackend implements SyscallBackend {
  /** Lift RLIMIT_MEMLOCK where the kernel charges BPF memory to it (sys/memlock.ts). */
  readonly raiseMemlock = true;
  private readonly fns;
  private readonly koffi: Koffi;

  constructor() {
    const koffi = koffiAddon();
    this.koffi = koffi;
    const libc = koffi.load('libc.so.6');
    this.fns = {
      calloc: libc.func('intptr_t calloc(size_t n, size_t size)'),
      free: libc.func('void free(intptr_t p)'),
      bpf: libc.func('syscall', 'long', ['long', 'long', 'intptr_t', 'long']),
      perf: libc.func('syscall', 'long', ['long', 'intptr_t', 'int', 'int', 'int', 'ulong']),
      ioctl: libc.func('int ioctl(int fd, ulong request, intptr_t arg)'),
      close: libc.func('int close(int fd)'),
      mmap: libc.func('intptr_t mmap(intptr_t addr, size_t len, int prot, int flags, int fd, int64_t off)'),
      munmap: libc.func('int munmap(intptr_t addr, size_t len)'),
      eventfd: libc.func('int eventfd(uint initval, int flags)'),
      write: libc.func('intptr_t write(int fd, intptr_t buf, size_t len)'),
      read: libc.func('intptr_t read(int fd, intptr_t buf, size_t len)'),
      socket: libc.func('int socket(int domain, int type, int protocol)'),
      sendto: libc.func('intptr_t sendto(int fd, intptr_t buf, size_t len, int flags, intptr_t addr, uint addrlen)'),
      recv: libc.func('intptr_t recv(int fd, intptr_t buf, size_t len, int flags)'),
      mallocTrim: libc.func('int malloc_trim(size_t pad)'),
      getrlimit: libc.func('int getrlimit(int resource, intptr_t rlim)'),
      setrlimit: libc.func('int setrlimit(int resource, intptr_t rlim)'),
      setns: libc.func('int setns(int fd, int nstype)'),
      mount: libc.func(
        'int mount(const char *source, const char *target, const char *fstype, ulong flags, intptr_t data)',
      ),
    };
  }

  private ret(r: number): number {
    return r < 0 ? -this.koffi.errno() : r;
  }

  alloc(size: number): NativeMemory {
    const n = Math.max(1, size);
    const p = this.fns.calloc(1, n) as number;
    if (!p) throw new RangeError(`calloc(${n}) failed`);
    return new CallocMemory(p, n, (a) => this.fns.free(a));
  }
  bpf(cmd: number, attr: NativeMemory, size: number): number {
    return this.ret(this.fns.bpf(SYS_bpf, cmd, attr.address, size) as number);
  }
  perfEventOpen(attr: NativeMemory, pid: number, cpu: number, groupFd: number, flags: number): number {
    return this.ret(this.fns.perf(SYS_perf_event_open, attr.address, pid, cpu, groupFd, flags) as number);
  }
  perfEventOpenAsync(attr: NativeMemory, pid: number, cpu: number, groupFd: number, flags: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.fns.perf.async(SYS_perf_event_open, attr.address, pid, cpu, groupFd, flags, (err: unknown, r: number) =>
        err ? reject(err) : resolve(r < 0 ? -1 : r),
      );
    });
  }
  closeAsync(fd: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.fns.close.async(fd, (err: unknown, r: number) => (err ? reject(err) : resolve(r)));
    });
  }
  ioctl(fd: number, request: number, arg: number): number {
    return this.ret(this.fns.ioctl(fd, request, arg) as number);
  }
  close(fd: number): number {
    return this.ret(this.fns.close(fd) as number);
  }
  mmap(length: number, prot: number, flags: number, fd: number, offset: number): MappedRegion | number {
    const p = this.fns.mmap(0, length, prot, flags, fd, offset) as number;
    if (p === -1) return -this.koffi.errno();
    return { address: p, length, buffer: this.koffi.view(p, length) };
  }
  munmap(address: number, length: number): number {
    return this.ret(this.fns.munmap(address, length) as number);
  }
  eventfd(initval: number, flags: number): number {
    return this.ret(this.fns.eventfd(initval, flags) as number);
  }
  write(fd: number, buf: NativeMemory, len: number): number {
    return this.ret(this.fns.write(fd, buf.address, len) as number);
  }
  read(fd: number, buf: NativeMemory, len: number): number {
    return this.ret(this.fns.read(fd, buf.address, len) as number);
  }
  socket(domain: number, type: number, protocol: number): number {
    return this.ret(this.fns.socket(domain, type, protocol) as number);
  }
  send(fd: number, buf: NativeMemory, len: number, flags: number): number {
    return this.ret(this.fns.sendto(fd, buf.address, len, flags, 0, 0) as number);
  }
  recv(fd: number, buf: NativeMemory, len: number, flags: number): number {
    return this.ret(this.fns.recv(fd, buf.address, len, flags) as number);
  }
  mallocTrim(): boolean {
    return (this.fns.mallocTrim(0) as number) === 1;
  }
  getrlimit(resource: number): [number, number] | number {
    const m = this.alloc(16);
    try {
      const r = this.fns.getrlimit(resource, m.address) as number;
      if (r < 0) return -this.koffi.errno();
      const get = (o: number) => {
        const v = m.view.getBigUint64(o, true);
        return v === 0xffff_ffff_ffff_ffffn ? Infinity : Number(v);
      };
      return [get(0), get(8)];
    } finally {
      m.free();
    }
  }
  setrlimit(resource: number, soft: number, hard: number): number {
    const m = this.alloc(16);
    try {
      const put = (o: number, v: number) =>
        m.view.setBigUint64(o, v === Infinity ? 0xffff_ffff_ffff_ffffn : BigInt(v), true);
      put(0, soft);
      put(8, hard);
      return this.ret(this.fns.setrlimit(resource, m.address) as number);
    } finally {
      m.free();
    }
  }
  mount(source: string, target: string, fstype: string, flags: number): number {
    return this.ret(this.fns.mount(source, target, fstype, flags, 0) as number);
  }
  setns(fd: number, nstype: number): number {
    return this.ret(this.fns.setns(fd, nstype) as number);
  }
  watch(fd: number, onReadable: () => void): FdWatcher {
    // koffi 3.3 passes the event as a status number rather than the typed object; we only
    // ask for readability, so any callback means "readable (or error): go read".
    const h = this.koffi.node.poll(fd, { readable: true }, () => onReadable());
    return {
      close: () => h.close(),
      unref: () => h.unref(),
      ref: () => h.ref(),
    };
  }
}
