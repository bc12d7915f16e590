import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { resolveType, sizeOf, alignOf, type Btf } from 'btf-parser';
import { kernelVersionCode } from '../prog/program.js';
import { ElfError } from '../elf/elf.js';

/** A `__kconfig` extern the loader cannot fill. */
export class KconfigError extends ElfError {}

/** One `__kconfig` extern and where it lives in the `.kconfig` map. */
export interface KconfigSlot {
  readonly name: string;
  /** Object BTF id of the VAR. */
  readonly varId: number;
  readonly offset: number;
  readonly size: number;
  readonly weak: boolean;
}

/**
 * Lays out `__kconfig` externs as libbpf does: by alignment (largest first), then size
 * (smallest first), then name, each at its alignment.
 */
export function layoutKconfig(
  btf: Btf,
  vars: readonly { name: string; varId: number; weak: boolean }[],
): { slots: KconfigSlot[]; size: number } {
  const sized = vars.map((v) => {
    const t = btf.type(v.varId);
    if (t.kind !== 'var') throw new KconfigError(`__kconfig extern ${v.name} is not a variable`);
    return { ...v, size: sizeOf(btf, t.type), align: alignOf(btf, t.type) };
  });
  sized.sort((a, b) => b.align - a.align || a.size - b.size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let off = 0;
  const slots = sized.map((v) => {
    off = Math.ceil(off / v.align) * v.align;
    const slot = { name: v.name, varId: v.varId, offset: off, size: v.size, weak: v.weak };
    off += v.size;
    return slot;
  });
  return { slots, size: off };
}

/** The running kernel's config (`/proc/config.gz` or `/boot/config-$(uname -r)`), as name → value. */
export function readKernelConfig(): Map<string, string> {
  let text: string | undefined;
  try {
    text = gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
  } catch {
    try {
      text = readFileSync(`/boot/config-${release()}`, 'utf8');
    } catch {
      throw new KconfigError(
        'the object uses CONFIG_* __kconfig externs, but neither /proc/config.gz nor /boot/config-$(uname -r) is readable (modprobe configs, or mark the externs __weak)',
      );
    }
  }
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

/** Fills the `.kconfig` map's bytes: LINUX_KERNEL_VERSION and CONFIG_* values, typed by their BTF. */
export function kconfigBytes(
  btf: Btf,
  slots: readonly KconfigSlot[],
  size: number,
  config: () => ReadonlyMap<string, string>,
): Uint8Array {
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  for (const s of slots) {
    const type = btf.type(resolveType(btf, btf.typeOfKind(s.varId, 'var').type));
    let value: string | undefined;
    if (s.name === 'LINUX_KERNEL_VERSION') value = String(kernelVersionCode());
    else if (s.name.startsWith('CONFIG_')) value = config().get(s.name);
    else if (!s.weak)
      throw new KconfigError(`__kconfig extern ${s.name} is not one the loader knows (LINUX_KERNEL_VERSION, CONFIG_*)`);
    if (value === undefined) {
      if (s.weak || s.name.startsWith('CONFIG_')) continue; // libbpf: unset options read as 0 / n
      throw new KconfigError(`__kconfig extern ${s.name} has no value`);
    }
    const where = `__kconfig ${s.name}=${value}`;
    if (type.kind === 'array') {
      const str = value.replace(/^"(.*)"$/, '$1');
      const b = new TextEncoder().encode(str);
      out.set(b.subarray(0, s.size - 1), s.offset);
      continue;
    }
    let n: bigint;
    if (value === 'y') n = type.kind === 'enum' ? 1n : 1n;
    else if (value === 'm') {
      if (type.kind !== 'enum' && !(type.kind === 'int' && s.size === 1 && type.name !== '_Bool'))
        throw new KconfigError(`${where}: a module option needs a tristate (enum libbpf_tristate) or char variable`);
      n = 2n;
    } else if (value === 'n') n = 0n;
    else if (/^-?(0x[0-9a-f]+|\d+)$/i.test(value)) n = BigInt(value);
    else throw new KconfigError(`${where}: cannot store "${value}" in a ${type.kind}`);
    if (type.kind === 'int' && type.name === '_Bool' && n > 1n) throw new KconfigError(`${where}: not a bool`);
    switch (s.size) {
      case 1:
        v.setUint8(s.offset, Number(BigInt.asUintN(8, n)));
        break;
      case 2:
        v.setUint16(s.offset, Number(BigInt.asUintN(16, n)), true);
        break;
      case 4:
        v.setUint32(s.offset, Number(BigInt.asUintN(32, n)), true);
        break;
      case 8:
        v.setBigUint64(s.offset, BigInt.asUintN(64, n), true);
        break;
      default:
        throw new KconfigError(`${where}: a ${s.size}-byte variable`);
    }
  }
  return out;
}
