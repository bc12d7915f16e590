import { loadBtfFile, loadKernelBtf, type Btf } from 'btf-parser';
import { NotFoundError } from '../errors.js';
import { Errno } from '../sys/errno.js';
import { BtfHandle } from '../btf/handle.js';

let vmlinux: Btf | undefined;

/** The running kernel's BTF, parsed once (btf-parser is lazy, so this is cheap to keep). */
export function kernelBtf(): Btf {
  vmlinux ??= loadKernelBtf();
  return vmlinux;
}

/**
 * Makes `btf`, already parsed from the running kernel's `/sys/kernel/btf/vmlinux`, the one
 * {@link kernelBtf} returns, so a caller that parsed it does not pay (in time and memory) for a
 * second parse when feature probes or attach targets need it. Pass only the running kernel's BTF:
 * attach ids resolved from another kernel's would point at the wrong types.
 */
export function shareKernelBtf(btf: Btf): void {
  vmlinux = btf;
}

/** Forgets the cached kernel BTF. */
export function flushKernelBtf(): void {
  vmlinux = undefined;
}

/**
 * attach_btf_id for a tp_btf program on tracepoint `name` (e.g. `kfree_skb`): the id of the
 * kernel's `btf_trace_<name>` typedef.
 */
export function tracepointBtfId(name: string, btf: Btf = kernelBtf()): number {
  const ids = btf.idsByName(`btf_trace_${name}`, 'typedef');
  if (ids.length === 0) {
    throw new NotFoundError(
      Errno.ENOENT,
      `find tp_btf target ${name}`,
      `the kernel's BTF has no btf_trace_${name}: there is no tracepoint "${name}"`,
    );
  }
  return ids[0]!;
}

/** attach_btf_id for fentry/fexit on kernel function `name`: the id of its BTF FUNC. */
export function functionBtfId(name: string, btf: Btf = kernelBtf()): number {
  const ids = btf.idsByName(name, 'func');
  if (ids.length === 0) {
    throw new NotFoundError(
      Errno.ENOENT,
      `find fentry/fexit target ${name}`,
      `function "${name}" is not in the kernel's BTF, so it is not traceable with fentry/fexit on this kernel`,
    );
  }
  return ids[0]!;
}

/** Where a tracing program attaches: the BTF id plus the object (module BTF or program) holding it. */
export interface TracingTarget {
  /** attach_btf_id for Program.load. */
  readonly attachBtfId: number;
  /** For a module function: fd of the module's BTF (attach_btf_obj_fd). Caller closes. */
  readonly attachBtfObjFd?: number;
  /** For a BPF program target: the program's fd (attach_prog_fd). */
  readonly attachProgFd?: number;
  /** The function name that was resolved. */
  readonly name: string;
}

/**
 * The fentry/fexit target for a function of a kernel module: its id in the module's split BTF
 * and the module's BTF object (`btf`; its fd is `attachBtfObjFd`): close it after loading.
 */
export function moduleFunctionTarget(
  name: string,
  module: string,
  btf: Btf = kernelBtf(),
): TracingTarget & { attachBtfObjFd: number; btf: BtfHandle } {
  const split = loadBtfFile(`/sys/kernel/btf/${module}`, { base: btf });
  const ids = split.idsByName(name, 'func').filter((id: number) => id > btf.maxTypeId);
  if (ids.length === 0) {
    throw new NotFoundError(
      Errno.ENOENT,
      `find fentry/fexit target ${name} [${module}]`,
      `function "${name}" is not in module ${module}'s BTF`,
    );
  }
  const handle = BtfHandle.forModule(module);
  return { attachBtfId: ids[0]!, attachBtfObjFd: handle.fd, name, btf: handle };
}
