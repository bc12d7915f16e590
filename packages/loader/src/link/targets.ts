import { BtfNotFoundError, loadKernelBtf, type Btf } from 'btf-parser';

let vmlinux: Btf | undefined;

/** The running kernel's BTF, parsed once (btf-parser is lazy, so this is cheap to keep). */
export function kernelBtf(): Btf {
  vmlinux ??= loadKernelBtf();
  return vmlinux;
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
  if (ids.length === 0) throw new BtfNotFoundError(`no BTF tracepoint btf_trace_${name}: the kernel has no tracepoint "${name}"`);
  return ids[0]!;
}

/** attach_btf_id for fentry/fexit on kernel function `name`: the id of its BTF FUNC. */
export function functionBtfId(name: string, btf: Btf = kernelBtf()): number {
  const ids = btf.idsByName(name, 'func');
  if (ids.length === 0) throw new BtfNotFoundError(`no BTF function "${name}" in this kernel (not traceable with fentry/fexit)`);
  return ids[0]!;
}
