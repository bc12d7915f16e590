/**
 * Test helper: the few bpf(2) commands the in-kernel tests need, through koffi. Deliberately
 * minimal (packages/loader is the real loader); it lets this package prove its encodings
 * against the kernel verifier without depending on the loader.
 */
import { execFileSync } from 'node:child_process';
import koffi from 'koffi';

const SYS_bpf = 321; // x86-64
const BPF_MAP_CREATE = 0;
const BPF_MAP_LOOKUP_ELEM = 1;
const BPF_MAP_UPDATE_ELEM = 2;
const BPF_PROG_LOAD = 5;
const BPF_PROG_TEST_RUN = 10;
const ATTR_SIZE = 144;

/** Program types used by the tests. */
export const ProgType = { SOCKET_FILTER: 1, SCHED_CLS: 3, XDP: 6 } as const;
/** Map types used by the tests. */
export const MapType = { HASH: 1, ARRAY: 2 } as const;

/** The kernel rejected a program: the message ends with the verifier log's last lines. */
export class KernelLoadError extends Error {
  constructor(
    readonly errno: number,
    readonly log: string,
  ) {
    super(`BPF_PROG_LOAD failed (errno ${errno}): ${log.trim().split('\n').slice(-6).join(' | ')}`);
  }
}

/** A minimal bpf(2) binding. */
export interface KernelBpf {
  createMap(type: number, keySize: number, valueSize: number, maxEntries: number): number;
  update(map: number, key: Buffer, value: Buffer): void;
  lookup(map: number, key: Buffer, valueSize: number): Buffer;
  loadProgram(type: number, bytecode: Uint8Array): number;
  testRun(prog: number, data: Buffer, repeat?: number): { retval: number; dataOut: Buffer };
  close(fd: number): void;
}

type Syscall = (nr: number, ...args: unknown[]) => number | bigint;

function bind(): KernelBpf {
  const libc = koffi.load('libc.so.6');
  const syscall = libc.func('long syscall(long nr, ...)') as unknown as Syscall;
  const closeFd = libc.func('int close(int fd)') as unknown as (fd: number) => number;
  const bpf = (cmd: number, attr: Buffer): number => {
    const r = Number(syscall(SYS_bpf, 'int', cmd, 'void *', attr, 'uint32_t', attr.length));
    return r < 0 ? -koffi.errno() : r;
  };
  const addr = (b: Buffer): bigint => koffi.address(b);
  const check = (what: string, r: number): number => {
    if (r < 0) throw new Error(`${what} failed: errno ${-r}`);
    return r;
  };
  return {
    createMap(type, keySize, valueSize, maxEntries) {
      const attr = Buffer.alloc(ATTR_SIZE);
      attr.writeUInt32LE(type, 0);
      attr.writeUInt32LE(keySize, 4);
      attr.writeUInt32LE(valueSize, 8);
      attr.writeUInt32LE(maxEntries, 12);
      return check('BPF_MAP_CREATE', bpf(BPF_MAP_CREATE, attr));
    },
    update(map, key, value) {
      const attr = Buffer.alloc(ATTR_SIZE);
      attr.writeUInt32LE(map, 0);
      attr.writeBigUInt64LE(addr(key), 8);
      attr.writeBigUInt64LE(addr(value), 16);
      check('BPF_MAP_UPDATE_ELEM', bpf(BPF_MAP_UPDATE_ELEM, attr));
    },
    lookup(map, key, valueSize) {
      const value = Buffer.alloc(valueSize);
      const attr = Buffer.alloc(ATTR_SIZE);
      attr.writeUInt32LE(map, 0);
      attr.writeBigUInt64LE(addr(key), 8);
      attr.writeBigUInt64LE(addr(value), 16);
      check('BPF_MAP_LOOKUP_ELEM', bpf(BPF_MAP_LOOKUP_ELEM, attr));
      return value;
    },
    loadProgram(type, bytecode) {
      const insns = Buffer.from(bytecode);
      const license = Buffer.from('GPL\0');
      const load = (log: Buffer | undefined): number => {
        const attr = Buffer.alloc(ATTR_SIZE);
        attr.writeUInt32LE(type, 0);
        attr.writeUInt32LE(insns.length / 8, 4);
        attr.writeBigUInt64LE(addr(insns), 8);
        attr.writeBigUInt64LE(addr(license), 16);
        if (log !== undefined) {
          attr.writeUInt32LE(1, 24);
          attr.writeUInt32LE(log.length, 28);
          attr.writeBigUInt64LE(addr(log), 32);
        }
        return bpf(BPF_PROG_LOAD, attr);
      };
      const fd = load(undefined);
      if (fd >= 0) return fd;
      const log = Buffer.alloc(1 << 20);
      const again = load(log);
      if (again >= 0) return again;
      throw new KernelLoadError(-again, log.toString('utf8', 0, Math.max(0, log.indexOf(0))));
    },
    testRun(prog, data, repeat = 1) {
      const out = Buffer.alloc(data.length + 256);
      const attr = Buffer.alloc(ATTR_SIZE);
      attr.writeUInt32LE(prog, 0);
      attr.writeUInt32LE(data.length, 8);
      attr.writeUInt32LE(out.length, 12);
      attr.writeBigUInt64LE(addr(data), 16);
      attr.writeBigUInt64LE(addr(out), 24);
      attr.writeUInt32LE(repeat, 32);
      check('BPF_PROG_TEST_RUN', bpf(BPF_PROG_TEST_RUN, attr));
      return { retval: attr.readUInt32LE(4), dataOut: out.subarray(0, attr.readUInt32LE(12)) };
    },
    close(fd) {
      closeFd(fd);
    },
  };
}

/**
 * The kernel binding, or the reason the in-kernel tests must skip (not Linux x86-64, koffi
 * unavailable, or no permission to create BPF maps).
 */
export function openKernelBpf(): { bpf: KernelBpf; skip?: undefined } | { bpf?: undefined; skip: string } {
  if (process.platform !== 'linux' || process.arch !== 'x64') return { skip: `bpf(2) tests need Linux x86-64, not ${process.platform}/${process.arch}` };
  let bpf: KernelBpf;
  try {
    bpf = bind();
  } catch (e) {
    return { skip: `koffi cannot bind libc: ${(e as Error).message}` };
  }
  try {
    bpf.close(bpf.createMap(MapType.ARRAY, 4, 4, 1));
  } catch (e) {
    return { skip: `cannot create BPF maps here (${(e as Error).message}; run as root)` };
  }
  return { bpf };
}

let vmlinuxFuncs: Map<string, number> | undefined;

/**
 * BTF id of a kernel function in /sys/kernel/btf/vmlinux, looked up with bpftool (a test-time
 * oracle; the package itself never needs it). `undefined` when bpftool or the BTF is missing.
 */
export function vmlinuxFuncId(name: string): number | undefined {
  if (vmlinuxFuncs === undefined) {
    vmlinuxFuncs = new Map();
    try {
      const dump = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux'], { encoding: 'utf8', maxBuffer: 1 << 30 });
      for (const m of dump.matchAll(/^\[(\d+)\] FUNC '([^']+)'/gm)) vmlinuxFuncs.set(m[2]!, Number(m[1]));
    } catch {
      // leave the map empty: callers skip
    }
  }
  return vmlinuxFuncs.get(name);
}
