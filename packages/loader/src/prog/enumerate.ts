import { BtfHandle } from '../btf/handle.js';
import { NotFoundError } from '../errors.js';
import { getInfoByFd } from '../info.js';
import { GetIdAttr, ProgInfo } from '../sys/attr.js';
import { defaultBackend, type SyscallBackend } from '../sys/backend.js';
import { bpfFor } from '../sys/bpf.js';
import { Errno } from '../sys/errno.js';
import { BpfCommand } from '../sys/generated/constants.js';
import { readProgramInfo, type ProgramInfo } from './program.js';

/** A program found on the system, with the names of its BTF functions. */
export interface LoadedProgramInfo extends ProgramInfo {
  /**
   * Function names from the program's BTF func_info, in instruction order; the first is the
   * entry function (what fentry/fexit on this program attach to). Empty without BTF.
   */
  readonly functions: readonly string[];
}

/** Ids of every BPF object of a kind on the system, via BPF_*_GET_NEXT_ID. */
export function* objectIds(
  kind: 'prog' | 'map' | 'link' | 'btf',
  opts: { backend?: SyscallBackend } = {},
): Generator<number> {
  const backend = opts.backend ?? defaultBackend();
  const cmd = {
    prog: BpfCommand.PROG_GET_NEXT_ID,
    map: BpfCommand.MAP_GET_NEXT_ID,
    link: BpfCommand.LINK_GET_NEXT_ID,
    btf: BpfCommand.BTF_GET_NEXT_ID,
  }[kind];
  const sys = bpfFor(backend);
  let id = 0;
  for (;;) {
    const r = sys.raw(cmd, GetIdAttr, { startId: id });
    if (r === -Errno.ENOENT) return;
    if (r < 0) sys.call(cmd, GetIdAttr, { startId: id }, { operation: `enumerate ${kind} ids` });
    id = sys.attr.view.getUint32(GetIdAttr.fields.nextId.offset, true);
    yield id;
  }
}

/** One function of a program, from its BTF func_info. */
export interface ProgramFunction {
  /** Instruction (slot) where the function starts; 0 for the entry function. */
  readonly insnOffset: number;
  /** The FUNC's type id in the program's BTF (the fentry/fexit attach_btf_id). */
  readonly typeId: number;
  /** The function's name. */
  readonly name: string;
}

/** The BTF functions of the program open at `fd`, in instruction order. Empty without BTF. */
export function programFunctions(backend: SyscallBackend, fd: number, info: ProgramInfo): ProgramFunction[] {
  if (!info.btfId || !info.funcInfoCount) return [];
  const F = ProgInfo.fields;
  const n = info.funcInfoCount;
  const recs = backend.alloc(n * 8);
  try {
    getInfoByFd(backend, fd, ProgInfo, 'program', (v) => {
      v.setUint32(F.nrFuncInfo.offset, n, true);
      v.setUint32(F.funcInfoRecSize.offset, 8, true);
      v.setBigUint64(F.funcInfo.offset, BigInt(recs.address), true);
    });
    using btf = BtfHandle.fromId(info.btfId, { backend });
    const parsed = btf.parse();
    const out: ProgramFunction[] = [];
    for (let i = 0; i < n; i++) {
      const insnOffset = recs.view.getUint32(i * 8, true);
      const typeId = recs.view.getUint32(i * 8 + 4, true);
      out.push({ insnOffset, typeId, name: parsed.nameOf(typeId) });
    }
    return out.sort((a, b) => a.insnOffset - b.insnOffset);
  } finally {
    recs.free();
  }
}

/** Names of the BTF functions of the program open at `fd` (entry function first). */
export function programFunctionNames(backend: SyscallBackend, fd: number, info: ProgramInfo): string[] {
  return programFunctions(backend, fd, info).map((f) => f.name);
}

/**
 * Every program loaded on the system (needs root/CAP_SYS_ADMIN), with info and BTF function
 * names. Programs unloaded while enumerating are skipped.
 */
export function loadedPrograms(
  opts: { backend?: SyscallBackend; filter?: (info: ProgramInfo) => boolean } = {},
): LoadedProgramInfo[] {
  const backend = opts.backend ?? defaultBackend();
  const sys = bpfFor(backend);
  const out: LoadedProgramInfo[] = [];
  for (const id of objectIds('prog', { backend })) {
    const fd = sys.raw(BpfCommand.PROG_GET_FD_BY_ID, GetIdAttr, { id });
    if (fd === -Errno.ENOENT) continue;
    if (fd < 0) sys.call(BpfCommand.PROG_GET_FD_BY_ID, GetIdAttr, { id }, { operation: `open program id ${id}` });
    try {
      const info = readProgramInfo(backend, fd);
      if (opts.filter && !opts.filter(info)) continue;
      let functions: string[] = [];
      try {
        functions = programFunctionNames(backend, fd, info);
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
      }
      out.push({ ...info, functions });
    } finally {
      backend.close(fd);
    }
  }
  return out;
}
