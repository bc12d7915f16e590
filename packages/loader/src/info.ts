import { InfoAttr } from './sys/attr.js';
import type { SyscallBackend } from './sys/backend.js';
import { bpfFor } from './sys/bpf.js';
import { BpfCommand } from './sys/generated/constants.js';
import { readNumber, type Layout } from './sys/layout.js';

/** Fields every BPF object's info has. */
export interface ObjectInfo {
  /** System-wide id. */
  readonly id: number;
}

/**
 * BPF_OBJ_GET_INFO_BY_FD into a fresh, zeroed info struct of `layout` (with optional fields
 * pre-set, e.g. pointers to arrays the kernel should fill). Returns a view of a copy.
 */
export function getInfoByFd<K extends string>(
  backend: SyscallBackend,
  fd: number,
  layout: Layout<K>,
  what: string,
  prepare?: (view: DataView) => void,
): { view: DataView; id: number } {
  const mem = backend.alloc(layout.size);
  try {
    prepare?.(mem.view);
    bpfFor(backend).call(
      BpfCommand.OBJ_GET_INFO_BY_FD,
      InfoAttr,
      { bpfFd: fd, infoLen: layout.size, info: mem.address },
      {
        operation: `get ${what} info (fd ${fd})`,
      },
    );
    const copy = new DataView(mem.bytes.slice(0, layout.size).buffer);
    const idField = (layout.fields as Record<string, { offset: number; size: number; path: string }>)['id'];
    return { view: copy, id: idField ? readNumber(copy, idField) : 0 };
  } finally {
    mem.free();
  }
}
