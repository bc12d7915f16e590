/**
 * A minimal bpf(2) BPF_BTF_LOAD for tests, through koffi. The package itself makes no syscalls;
 * this only proves that blobs written by BtfBuilder are accepted by the running kernel.
 */
import koffi from 'koffi';

const SYS_bpf = 321;
const BPF_BTF_LOAD = 18;
const ATTR_SIZE = 48;

const libc = koffi.load('libc.so.6');
const calloc = libc.func('intptr_t calloc(size_t n, size_t size)');
const free = libc.func('void free(intptr_t p)');
const close = libc.func('int close(int fd)');
const syscall = libc.func('syscall', 'long', ['long', 'long', 'intptr_t', 'long']);

function native(size: number): { address: number; bytes: Uint8Array } {
  const address = calloc(1, Math.max(1, size)) as number;
  if (!address) throw new Error(`calloc(${size}) failed`);
  return { address, bytes: new Uint8Array(koffi.view(address as never, Math.max(1, size)) as ArrayBuffer) };
}

/** The result of a BPF_BTF_LOAD: an fd (closed already) or an errno, plus the verifier log. */
export interface BtfLoadResult {
  readonly ok: boolean;
  readonly errno: number;
  readonly log: string;
}

/** Loads a BTF blob into the kernel with BPF_BTF_LOAD (log level 1) and closes the fd. */
export function btfLoad(blob: Uint8Array): BtfLoadResult {
  const data = native(blob.length);
  const log = native(64 * 1024);
  const attr = native(ATTR_SIZE);
  try {
    data.bytes.set(blob);
    const v = new DataView(attr.bytes.buffer, attr.bytes.byteOffset, ATTR_SIZE);
    v.setBigUint64(0, BigInt(data.address), true); // btf
    v.setBigUint64(8, BigInt(log.address), true); // btf_log_buf
    v.setUint32(16, blob.length, true); // btf_size
    v.setUint32(20, 64 * 1024, true); // btf_log_size
    v.setUint32(24, 1, true); // btf_log_level
    const fd = syscall(SYS_bpf, BPF_BTF_LOAD, attr.address, ATTR_SIZE) as number;
    const errno = fd < 0 ? koffi.errno() : 0;
    if (fd >= 0) close(fd);
    const end = log.bytes.indexOf(0);
    return { ok: fd >= 0, errno, log: Buffer.from(log.bytes.subarray(0, end < 0 ? log.bytes.length : end)).toString('latin1') };
  } finally {
    free(data.address);
    free(log.address);
    free(attr.address);
  }
}

/** Why BPF_BTF_LOAD cannot be tried here, or undefined when it can (root on Linux). */
export function btfLoadUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (BPF_BTF_LOAD needs CAP_BPF)';
  return undefined;
}
