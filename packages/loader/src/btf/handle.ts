import { Btf } from 'btf-parser';
import { BpfError, NotFoundError } from '../errors.js';
import { FdHandle } from '../fd.js';
import { getInfoByFd } from '../info.js';
import { BtfGetFdAttr, BtfInfo, BtfLoadAttr, GetIdAttr } from '../sys/attr.js';
import { defaultBackend, type SyscallBackend } from '../sys/backend.js';
import { bpfFor, nativeBytes } from '../sys/bpf.js';
import { Errno } from '../sys/errno.js';
import { BpfCommand } from '../sys/generated/constants.js';
import { readNumber } from '../sys/layout.js';

/** The kernel rejected a BTF blob; `log` holds its explanation. */
export class BtfLoadError extends BpfError {
  /** The kernel's BTF verifier log. */
  readonly log: string;
  constructor(errno: number, log: string) {
    const last = log.trim().split('\n').filter(Boolean).pop() ?? '';
    super(`BPF_BTF_LOAD rejected the BTF blob (errno ${errno})${last ? `: ${last}` : ''}`);
    this.log = log;
  }
}

/** A BTF object loaded into the kernel (for map/program BTF, func_info). */
export class BtfHandle extends FdHandle {
  private constructor(fd: number, backend: SyscallBackend) {
    super(fd, backend);
  }

  protected describe(): string {
    return 'BTF object';
  }

  /** Loads a raw BTF blob (e.g. from btf-parser's BtfBuilder). */
  static load(blob: Uint8Array, opts: { backend?: SyscallBackend } = {}): BtfHandle {
    const backend = opts.backend ?? defaultBackend();
    const data = nativeBytes(backend, blob);
    const sys = bpfFor(backend);
    try {
      const r = sys.raw(BpfCommand.BTF_LOAD, BtfLoadAttr, { btf: data.address, btfSize: blob.length });
      if (r >= 0) return new BtfHandle(r, backend);
      if (r === -Errno.EPERM) sys.call(BpfCommand.BTF_LOAD, BtfLoadAttr, {}, { operation: 'BPF_BTF_LOAD' });
      const log = backend.alloc(1 << 16);
      try {
        const r2 = sys.raw(BpfCommand.BTF_LOAD, BtfLoadAttr, {
          btf: data.address,
          btfSize: blob.length,
          btfLogBuf: log.address,
          btfLogSize: log.size,
          btfLogLevel: 1,
        });
        if (r2 >= 0) return new BtfHandle(r2, backend);
        const end = log.bytes.indexOf(0);
        throw new BtfLoadError(-r2, new TextDecoder().decode(log.bytes.subarray(0, end < 0 ? log.size : end)));
      } finally {
        log.free();
      }
    } finally {
      data.free();
    }
  }

  /** Opens a kernel BTF object by id (vmlinux, a module, or a program's BTF). */
  static fromId(id: number, opts: { backend?: SyscallBackend } = {}): BtfHandle {
    const backend = opts.backend ?? defaultBackend();
    const fd = bpfFor(backend).call(
      BpfCommand.BTF_GET_FD_BY_ID,
      BtfGetFdAttr,
      { btfId: id },
      {
        operation: `open BTF id ${id}`,
      },
    );
    return new BtfHandle(fd, backend);
  }

  /** The object's id and raw bytes, as the kernel holds them. */
  read(): { id: number; bytes: Uint8Array; kernel: boolean } {
    const b = this.backend;
    const first = getInfoByFd(b, this.fd, BtfInfo, 'BTF').view;
    const size = readNumber(first, BtfInfo.fields.btfSize);
    const buf = b.alloc(size);
    try {
      const v = getInfoByFd(b, this.fd, BtfInfo, 'BTF', (view) => {
        view.setBigUint64(BtfInfo.fields.btf.offset, BigInt(buf.address), true);
        view.setUint32(BtfInfo.fields.btfSize.offset, size, true);
      }).view;
      return {
        id: readNumber(v, BtfInfo.fields.id),
        bytes: buf.bytes.slice(0, size),
        kernel: readNumber(v, BtfInfo.fields.kernelBtf) !== 0,
      };
    } finally {
      buf.free();
    }
  }

  /** The object's id, name (module name, `vmlinux`, or empty for program BTF) and whether it is kernel BTF. */
  info(): { id: number; name: string; kernel: boolean } {
    const b = this.backend;
    const nameBuf = b.alloc(64);
    try {
      const v = getInfoByFd(b, this.fd, BtfInfo, 'BTF', (view) => {
        view.setBigUint64(BtfInfo.fields.name.offset, BigInt(nameBuf.address), true);
        view.setUint32(BtfInfo.fields.nameLen.offset, nameBuf.size, true);
      }).view;
      const end = nameBuf.bytes.indexOf(0);
      return {
        id: readNumber(v, BtfInfo.fields.id),
        name: new TextDecoder().decode(nameBuf.bytes.subarray(0, end < 0 ? nameBuf.size : end)),
        kernel: readNumber(v, BtfInfo.fields.kernelBtf) !== 0,
      };
    } finally {
      nameBuf.free();
    }
  }

  /**
   * Opens the kernel BTF object of a module (e.g. `nf_conntrack`), for `attachBtfObjFd` when
   * tracing a module function. Throws NotFoundError if no loaded module has that name.
   */
  static forModule(module: string, opts: { backend?: SyscallBackend } = {}): BtfHandle {
    const backend = opts.backend ?? defaultBackend();
    const sys = bpfFor(backend);
    let id = 0;
    for (;;) {
      const r = sys.raw(BpfCommand.BTF_GET_NEXT_ID, GetIdAttr, { startId: id });
      if (r === -Errno.ENOENT) break;
      if (r < 0)
        sys.call(BpfCommand.BTF_GET_NEXT_ID, GetIdAttr, { startId: id }, { operation: 'enumerate BTF objects' });
      id = sys.attr.view.getUint32(GetIdAttr.fields.nextId.offset, true);
      let h: BtfHandle;
      try {
        h = BtfHandle.fromId(id, { backend });
      } catch {
        continue; // unloaded meanwhile
      }
      const info = h.info();
      if (info.kernel && info.name === module) return h;
      h.close();
    }
    throw new NotFoundError(
      Errno.ENOENT,
      `find BTF of module ${module}`,
      'no loaded kernel module with BTF has that name',
    );
  }

  /** Parses the object's BTF with btf-parser (pass `base` for split/module BTF). */
  parse(base?: Btf): Btf {
    return Btf.parse(this.read().bytes, base ? { base } : {});
  }
}
