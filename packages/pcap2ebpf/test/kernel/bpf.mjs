// A minimal bpf(2) client through koffi for pcap2ebpf's kernel tests and benchmark: create an
// array map, update it, load a program, test-run it. The library itself makes no syscalls.
// Plain JavaScript so that bench/bench.mjs can use it without a build; types in bpf.d.mts.
import koffi from 'koffi';

const SYS_bpf = 321;
const BPF_MAP_CREATE = 0;
const BPF_MAP_UPDATE_ELEM = 2;
const BPF_PROG_LOAD = 5;
const BPF_PROG_TEST_RUN = 10;
const BPF_MAP_TYPE_ARRAY = 2;

export const PROG_TYPE = Object.freeze({ socket_filter: 1, sched_cls: 3, xdp: 6 });

export class ProgramLoadError extends Error {
  constructor(errno, log) {
    super(`BPF_PROG_LOAD failed (errno ${errno}): ${log.trim().split('\n').slice(-3).join(' | ')}`);
    this.name = 'ProgramLoadError';
    this.errno = errno;
    this.log = log;
  }
}

export class TestBpf {
  constructor() {
    const libc = koffi.load('libc.so.6');
    this.syscall = libc.func('syscall', 'long', ['long', 'long', 'intptr_t', 'long']);
    this.calloc = libc.func('intptr_t calloc(size_t n, size_t size)');
    this.free = libc.func('void free(intptr_t p)');
    this.closeFd = libc.func('int close(int fd)');
    this.attr = this.alloc(128);
    this.input = this.alloc(16384);
  }

  static open() {
    if (process.platform !== 'linux' || process.arch !== 'x64') return 'needs x86-64 Linux';
    let bpf;
    try {
      bpf = new TestBpf();
    } catch (e) {
      return `koffi/libc unavailable: ${e.message}`;
    }
    try {
      const fd = bpf.load(PROG_TYPE.socket_filter, Uint8Array.from([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]));
      bpf.close(fd);
    } catch (e) {
      return `cannot load BPF programs here (${e.message}); run as root on a kernel with BPF`;
    }
    return bpf;
  }

  alloc(size) {
    const n = Math.max(1, size);
    const address = this.calloc(1, n);
    if (!address) throw new RangeError(`calloc(${n}) failed`);
    const buf = koffi.view(address, n);
    return { address, size: n, bytes: new Uint8Array(buf), view: new DataView(buf) };
  }

  clearAttr() {
    this.attr.bytes.fill(0);
    return this.attr.view;
  }

  call(cmd, size) {
    const r = this.syscall(SYS_bpf, cmd, this.attr.address, size);
    return r < 0 ? -koffi.errno() : r;
  }

  createArrayMap(valueSize, maxEntries = 1) {
    const v = this.clearAttr();
    v.setUint32(0, BPF_MAP_TYPE_ARRAY, true);
    v.setUint32(4, 4, true);
    v.setUint32(8, valueSize, true);
    v.setUint32(12, maxEntries, true);
    const fd = this.call(BPF_MAP_CREATE, 72);
    if (fd < 0) throw new Error(`BPF_MAP_CREATE failed (errno ${-fd})`);
    return fd;
  }

  updateArray(fd, index, value) {
    if (value.length + 4 > this.input.size) throw new RangeError('value too large');
    this.input.view.setUint32(0, index, true);
    this.input.bytes.set(value, 8);
    const v = this.clearAttr();
    v.setUint32(0, fd, true);
    v.setBigUint64(8, BigInt(this.input.address), true);
    v.setBigUint64(16, BigInt(this.input.address + 8), true);
    const r = this.call(BPF_MAP_UPDATE_ELEM, 32);
    if (r < 0) throw new Error(`BPF_MAP_UPDATE_ELEM failed (errno ${-r})`);
  }

  load(type, insns, name = 'pcap_test') {
    const code = this.alloc(insns.length);
    const license = this.alloc(8);
    const logSize = 1 << 22;
    const log = this.alloc(logSize);
    try {
      code.bytes.set(insns);
      license.bytes.set(new TextEncoder().encode('GPL\0'));
      const attempt = (level) => {
        const v = this.clearAttr();
        v.setUint32(0, type, true);
        v.setUint32(4, insns.length / 8, true);
        v.setBigUint64(8, BigInt(code.address), true);
        v.setBigUint64(16, BigInt(license.address), true);
        v.setUint32(24, level, true);
        v.setUint32(28, level ? logSize : 0, true);
        v.setBigUint64(32, level ? BigInt(log.address) : 0n, true);
        this.attr.bytes.set(new TextEncoder().encode(name.slice(0, 15)), 48);
        return this.call(BPF_PROG_LOAD, 128);
      };
      const fd = attempt(0);
      if (fd >= 0) return fd;
      const again = attempt(1);
      if (again >= 0) return again;
      const end = log.bytes.indexOf(0);
      throw new ProgramLoadError(-fd, new TextDecoder().decode(log.bytes.subarray(0, end < 0 ? logSize : end)));
    } finally {
      for (const m of [code, license, log]) this.free(m.address);
    }
  }

  testRun(fd, data, repeat = 1) {
    if (data.length > this.input.size) throw new RangeError('test input too large');
    this.input.bytes.set(data);
    const v = this.clearAttr();
    v.setUint32(0, fd, true);
    v.setUint32(8, data.length, true);
    v.setBigUint64(16, BigInt(this.input.address), true);
    v.setUint32(32, repeat, true);
    const r = this.call(BPF_PROG_TEST_RUN, 80);
    if (r < 0) throw new Error(`BPF_PROG_TEST_RUN failed (errno ${-r})`);
    return { retval: v.getUint32(4, true), duration: v.getUint32(36, true) };
  }

  close(fd) {
    this.closeFd(fd);
  }
}
