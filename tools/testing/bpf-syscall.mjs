// A minimal, test-only bpf(2) client through koffi, shared by the in-kernel tests of the pure
// packages (asm, btf, pcap2ebpf) and pcap2ebpf's benchmark. Those packages make no syscalls
// themselves and may not depend on bpf-loader-ts (the loader depends on them), so their tests
// prove their output against the real verifier with this instead.
//
// Plain ESM JavaScript so that `node bench/bench.mjs` can import it without a TypeScript loader;
// the types (and the API's doc comments) are in bpf-syscall.d.mts beside it.
//
// Every attribute and buffer the kernel reads or writes lives in native memory from calloc, so
// its address is stable for the duration of the call; all calls are synchronous.
import { execFileSync } from 'node:child_process';
import koffi from 'koffi';

const SYS_bpf = 321; // x86-64

const BPF_MAP_CREATE = 0;
const BPF_MAP_LOOKUP_ELEM = 1;
const BPF_MAP_UPDATE_ELEM = 2;
const BPF_PROG_LOAD = 5;
const BPF_PROG_TEST_RUN = 10;
const BPF_BTF_LOAD = 18;

const COMMAND_NAMES = {
  [BPF_MAP_CREATE]: 'BPF_MAP_CREATE',
  [BPF_MAP_LOOKUP_ELEM]: 'BPF_MAP_LOOKUP_ELEM',
  [BPF_MAP_UPDATE_ELEM]: 'BPF_MAP_UPDATE_ELEM',
  [BPF_PROG_LOAD]: 'BPF_PROG_LOAD',
  [BPF_PROG_TEST_RUN]: 'BPF_PROG_TEST_RUN',
  [BPF_BTF_LOAD]: 'BPF_BTF_LOAD',
};

/** Large enough for every command used here (union bpf_attr is zero-filled past each one's fields). */
const ATTR_SIZE = 144;
/** Verifier log buffer for a rejected program: big filters produce long logs. */
const PROG_LOG_SIZE = 1 << 22;
/** Log buffer for BPF_BTF_LOAD. */
const BTF_LOG_SIZE = 64 * 1024;

/** The errno values bpf(2) commonly returns, by number, for readable messages. */
const ERRNO_NAMES = {
  1: 'EPERM',
  2: 'ENOENT',
  7: 'E2BIG',
  9: 'EBADF',
  11: 'EAGAIN',
  12: 'ENOMEM',
  13: 'EACCES',
  14: 'EFAULT',
  22: 'EINVAL',
  28: 'ENOSPC',
  34: 'ERANGE',
  95: 'EOPNOTSUPP',
  524: 'ENOTSUPP',
};

export const PROG_TYPE = Object.freeze({ socket_filter: 1, sched_cls: 3, xdp: 6 });
export const MAP_TYPE = Object.freeze({ hash: 1, array: 2 });

export function errnoName(errno) {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}

export class BpfSyscallError extends Error {
  constructor(command, errno, detail = '') {
    super(`${command} failed: ${errnoName(errno)} (errno ${errno})${detail}`);
    this.name = 'BpfSyscallError';
    this.command = command;
    this.errno = errno;
  }
}

export class ProgramLoadError extends BpfSyscallError {
  constructor(errno, log) {
    const tail = log.trim().split('\n').slice(-6).join(' | ');
    super('BPF_PROG_LOAD', errno, tail ? `: ${tail}` : '');
    this.name = 'ProgramLoadError';
    this.log = log;
  }
}

/** The text of a NUL-terminated log buffer. */
function logText(bytes) {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(bytes.subarray(0, end < 0 ? bytes.length : end));
}

export class TestBpf {
  static open() {
    if (process.platform !== 'linux' || process.arch !== 'x64')
      return `bpf(2) tests need Linux x86-64, not ${process.platform}/${process.arch}`;
    let bpf;
    try {
      bpf = new TestBpf();
    } catch (e) {
      return `koffi cannot bind libc: ${e.message}`;
    }
    try {
      // r0 = 0; exit: the smallest program every kernel with BPF accepts.
      bpf.close(
        bpf.load(PROG_TYPE.socket_filter, Uint8Array.from([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0])),
      );
    } catch (e) {
      return `cannot load BPF programs here (${e.message}); run as root on a kernel with BPF`;
    }
    return bpf;
  }

  #syscall;
  #calloc;
  #free;
  #closeFd;
  #attr;
  #scratch;

  constructor() {
    const libc = koffi.load('libc.so.6');
    // syscall(2) is variadic; on x86-64 integer arguments travel in the same registers either
    // way, and a fixed prototype avoids koffi's per-call variadic type parsing.
    this.#syscall = libc.func('syscall', 'long', ['long', 'long', 'intptr_t', 'long']);
    this.#calloc = libc.func('intptr_t calloc(size_t n, size_t size)');
    this.#free = libc.func('void free(intptr_t p)');
    this.#closeFd = libc.func('int close(int fd)');
    this.#attr = this.#alloc(ATTR_SIZE);
    this.#scratch = this.#alloc(16384);
  }

  /** Zeroed native memory with byte and DataView views; release with this.#free(m.address). */
  #alloc(size) {
    const n = Math.max(1, size);
    const address = this.#calloc(1, n);
    if (!address) throw new RangeError(`calloc(${n}) failed`);
    const buf = koffi.view(address, n);
    return { address, size: n, bytes: new Uint8Array(buf), view: new DataView(buf) };
  }

  /** The reusable scratch area, grown to at least `size` bytes and zeroed up to it. */
  #scratchOf(size) {
    if (size > this.#scratch.size) {
      const grown = this.#alloc(Math.max(size, this.#scratch.size * 2));
      this.#free(this.#scratch.address);
      this.#scratch = grown;
    }
    this.#scratch.bytes.fill(0, 0, size);
    return this.#scratch;
  }

  /** A zeroed attribute block. */
  #clearAttr() {
    this.#attr.bytes.fill(0);
    return this.#attr.view;
  }

  /** Runs `cmd` with the attribute block: the result, or minus the errno. */
  #call(cmd) {
    const r = Number(this.#syscall(SYS_bpf, cmd, this.#attr.address, ATTR_SIZE));
    return r < 0 ? -koffi.errno() : r;
  }

  /** Runs `cmd` and throws a BpfSyscallError when it fails. */
  #check(cmd) {
    const r = this.#call(cmd);
    if (r < 0) throw new BpfSyscallError(COMMAND_NAMES[cmd], -r);
    return r;
  }

  createMap(type, keySize, valueSize, maxEntries) {
    const v = this.#clearAttr();
    v.setUint32(0, type, true);
    v.setUint32(4, keySize, true);
    v.setUint32(8, valueSize, true);
    v.setUint32(12, maxEntries, true);
    return this.#check(BPF_MAP_CREATE);
  }

  createArrayMap(valueSize, maxEntries = 1) {
    return this.createMap(MAP_TYPE.array, 4, valueSize, maxEntries);
  }

  update(map, key, value) {
    const valueAt = (key.length + 7) & ~7;
    const s = this.#scratchOf(valueAt + value.length);
    s.bytes.set(key, 0);
    s.bytes.set(value, valueAt);
    const v = this.#clearAttr();
    v.setUint32(0, map, true);
    v.setBigUint64(8, BigInt(s.address), true);
    v.setBigUint64(16, BigInt(s.address + valueAt), true);
    this.#check(BPF_MAP_UPDATE_ELEM);
  }

  updateArray(map, index, value) {
    const key = new Uint8Array(4);
    new DataView(key.buffer).setUint32(0, index, true);
    this.update(map, key, value);
  }

  lookup(map, key, valueSize) {
    const valueAt = (key.length + 7) & ~7;
    const s = this.#scratchOf(valueAt + valueSize);
    s.bytes.set(key, 0);
    const v = this.#clearAttr();
    v.setUint32(0, map, true);
    v.setBigUint64(8, BigInt(s.address), true);
    v.setBigUint64(16, BigInt(s.address + valueAt), true);
    this.#check(BPF_MAP_LOOKUP_ELEM);
    return Buffer.from(s.bytes.subarray(valueAt, valueAt + valueSize));
  }

  load(type, insns, name) {
    if (insns.length % 8 !== 0)
      throw new RangeError(`program bytecode is ${insns.length} bytes, not a whole number of 8-byte instructions`);
    const licenseAt = (insns.length + 7) & ~7;
    const s = this.#scratchOf(licenseAt + 8);
    s.bytes.set(insns, 0);
    s.bytes.set(new TextEncoder().encode('GPL\0'), licenseAt);
    const attempt = (log) => {
      const v = this.#clearAttr();
      v.setUint32(0, type, true);
      v.setUint32(4, insns.length / 8, true);
      v.setBigUint64(8, BigInt(s.address), true);
      v.setBigUint64(16, BigInt(s.address + licenseAt), true);
      if (log !== undefined) {
        v.setUint32(24, 1, true); // log_level
        v.setUint32(28, log.size, true);
        v.setBigUint64(32, BigInt(log.address), true);
      }
      if (name !== undefined) this.#attr.bytes.set(new TextEncoder().encode(name.slice(0, 15)), 48);
      return this.#call(BPF_PROG_LOAD);
    };
    // Without a log first: the verifier is much faster when it need not write one.
    const fd = attempt(undefined);
    if (fd >= 0) return fd;
    const log = this.#alloc(PROG_LOG_SIZE);
    try {
      const again = attempt(log);
      if (again >= 0) return again;
      throw new ProgramLoadError(-again, logText(log.bytes));
    } finally {
      this.#free(log.address);
    }
  }

  loadBtf(blob) {
    const s = this.#scratchOf(blob.length + BTF_LOG_SIZE);
    s.bytes.set(blob, 0);
    const logAt = blob.length;
    const v = this.#clearAttr();
    v.setBigUint64(0, BigInt(s.address), true); // btf
    v.setBigUint64(8, BigInt(s.address + logAt), true); // btf_log_buf
    v.setUint32(16, blob.length, true); // btf_size
    v.setUint32(20, BTF_LOG_SIZE, true); // btf_log_size
    v.setUint32(24, 1, true); // btf_log_level
    const fd = this.#call(BPF_BTF_LOAD);
    if (fd >= 0) this.close(fd);
    return { ok: fd >= 0, errno: fd < 0 ? -fd : 0, log: logText(s.bytes.subarray(logAt, logAt + BTF_LOG_SIZE)) };
  }

  testRun(prog, data, repeat = 1) {
    const s = this.#scratchOf(data.length);
    s.bytes.set(data, 0);
    const v = this.#clearAttr();
    v.setUint32(0, prog, true);
    v.setUint32(8, data.length, true); // data_size_in
    v.setBigUint64(16, BigInt(s.address), true); // data_in
    v.setUint32(32, repeat, true);
    this.#check(BPF_PROG_TEST_RUN);
    return { retval: v.getUint32(4, true), duration: v.getUint32(36, true) };
  }

  close(fd) {
    this.#closeFd(fd);
  }
}

let vmlinuxFuncs;

export function vmlinuxFuncId(name) {
  if (vmlinuxFuncs === undefined) {
    vmlinuxFuncs = new Map();
    try {
      const dump = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux'], {
        encoding: 'utf8',
        maxBuffer: 1 << 30,
      });
      for (const m of dump.matchAll(/^\[(\d+)\] FUNC '([^']+)'/gm)) vmlinuxFuncs.set(m[2], Number(m[1]));
    } catch {
      // leave the map empty: callers skip
    }
  }
  return vmlinuxFuncs.get(name);
}
