import { closeSync, openSync, readSync } from 'node:fs';
import { PwruError } from '../errors.js';

/** One `PT_LOAD` segment of `/proc/kcore`: kernel virtual memory at a file offset. */
export interface KcoreSegment {
  readonly vaddr: bigint;
  readonly offset: bigint;
  readonly size: bigint;
}

/** `/proc/kcore` is missing, unreadable or not the ELF64 little-endian core it should be. */
export class KcoreError extends PwruError {
  override name = 'KcoreError';
}

const PT_LOAD = 1;
const ELF_HEADER = 64;

/** The ELF64 header fields that locate the program headers. */
export function parseElfHeader(h: Uint8Array): { phoff: bigint; phentsize: number; phnum: number } {
  if (h.length < ELF_HEADER || h[0] !== 0x7f || h[1] !== 0x45 || h[2] !== 0x4c || h[3] !== 0x46)
    throw new KcoreError('not an ELF file');
  if (h[4] !== 2 || h[5] !== 1) throw new KcoreError('not a 64-bit little-endian ELF file');
  const v = new DataView(h.buffer, h.byteOffset, h.byteLength);
  return { phoff: v.getBigUint64(32, true), phentsize: v.getUint16(54, true), phnum: v.getUint16(56, true) };
}

/** The `PT_LOAD` segments of a table of `phnum` ELF64 program headers of `phentsize` bytes. */
export function parseLoadSegments(table: Uint8Array, phentsize: number, phnum: number): KcoreSegment[] {
  if (phentsize < 56) throw new KcoreError(`program header entries of ${phentsize} bytes (ELF64 needs 56)`);
  const v = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const out: KcoreSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = i * phentsize;
    if (at + 56 > table.byteLength) throw new KcoreError('truncated program header table');
    if (v.getUint32(at, true) !== PT_LOAD) continue;
    out.push({
      offset: v.getBigUint64(at + 8, true),
      vaddr: v.getBigUint64(at + 16, true),
      size: v.getBigUint64(at + 32, true),
    });
  }
  return out;
}

/**
 * Kernel memory read through `/proc/kcore` (root, `CONFIG_PROC_KCORE`): the JITed images of BPF
 * programs, for `--filter-track-bpf-helpers`. Close it when done.
 */
export class Kcore {
  private constructor(
    private readonly fd: number,
    /** The loadable segments, by address. */
    readonly segments: readonly KcoreSegment[],
    private readonly path: string,
  ) {}

  /** Opens and indexes `path` (default `/proc/kcore`). */
  static open(path = '/proc/kcore'): Kcore {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? 'the kernel has no CONFIG_PROC_KCORE'
          : code === 'EACCES' || code === 'EPERM'
            ? 'run pwru as root'
            : (e as Error).message;
      throw new KcoreError(`cannot open ${path}: ${why}`);
    }
    try {
      const h = readExactly(fd, 0n, ELF_HEADER, path);
      const { phoff, phentsize, phnum } = parseElfHeader(h);
      const table = readExactly(fd, phoff, phentsize * phnum, path);
      const segments = parseLoadSegments(table, phentsize, phnum).sort((a, b) =>
        a.vaddr < b.vaddr ? -1 : a.vaddr > b.vaddr ? 1 : 0,
      );
      return new Kcore(fd, segments, path);
    } catch (e) {
      closeSync(fd);
      if (e instanceof KcoreError) throw new KcoreError(`${path}: ${e.message}`);
      throw e;
    }
  }

  /** The segment holding `[addr, addr + len)`, if one does. */
  segmentOf(addr: bigint, len: number): KcoreSegment | undefined {
    return this.segments.find((s) => addr >= s.vaddr && addr + BigInt(len) <= s.vaddr + s.size);
  }

  /** Reads `len` bytes of kernel memory at `addr`. */
  read(addr: bigint, len: number): Uint8Array {
    const s = this.segmentOf(addr, len);
    if (!s) throw new KcoreError(`${this.path} has no segment for 0x${addr.toString(16)} (+${len})`);
    return readExactly(this.fd, s.offset + (addr - s.vaddr), len, this.path);
  }

  close(): void {
    closeSync(this.fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function readExactly(fd: number, position: bigint, len: number, path: string): Uint8Array {
  const buf = new Uint8Array(len);
  let done = 0;
  while (done < len) {
    const n = readSync(fd, buf, done, len - done, position + BigInt(done));
    if (n === 0) throw new KcoreError(`${path}: short read at offset ${position + BigInt(done)}`);
    done += n;
  }
  return buf;
}
