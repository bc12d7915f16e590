import { readFileSync, readdirSync } from 'node:fs';
import { release } from 'node:os';
import { Btf } from './btf.js';
import { BtfError, KernelBtfNotFoundError } from './errors.js';
import { elfSection, isElf } from './elf.js';

/** Options for loading BTF from bytes or a file. */
export interface LoadOptions {
  /** Base BTF (vmlinux) for split BTF such as a module's. */
  base?: Btf;
  /** Reads a file's bytes (default `readFileSync`); e.g. to map `/sys/kernel/btf/*` instead. */
  read?: (path: string) => Uint8Array;
}

/**
 * Parses BTF from raw BTF bytes or from an ELF file's `.BTF` section (a vmlinux with debug info,
 * or a `.ko` whose split BTF needs `base`).
 */
export function parseBtfOrElf(bytes: Uint8Array, options: LoadOptions = {}): Btf {
  if (isElf(bytes)) {
    const sec = elfSection(bytes, '.BTF');
    if (!sec) throw new BtfError('ELF file has no .BTF section (was it built with CONFIG_DEBUG_INFO_BTF?)');
    return Btf.parse(sec, options);
  }
  return Btf.parse(bytes, options);
}

/** Reads and parses a BTF file: raw BTF (`/sys/kernel/btf/*`, btfhub `.btf`) or an ELF with `.BTF`. */
export function loadBtfFile(path: string, options: LoadOptions = {}): Btf {
  let bytes: Uint8Array;
  try {
    bytes = (options.read ?? readFileSync)(path);
  } catch (e) {
    throw new BtfError(`cannot read BTF file ${path}: ${(e as Error).message}`);
  }
  try {
    return parseBtfOrElf(bytes, options.base ? { base: options.base } : {});
  } catch (e) {
    if (e instanceof Error) e.message = `${path}: ${e.message}`;
    throw e;
  }
}

/** Where libbpf looks for the running kernel's BTF, in its order. */
export function kernelBtfPaths(kernelRelease: string = release()): string[] {
  const r = kernelRelease;
  return [
    '/sys/kernel/btf/vmlinux',
    `/boot/vmlinux-${r}`,
    `/lib/modules/${r}/vmlinux-${r}`,
    `/lib/modules/${r}/build/vmlinux`,
    `/usr/lib/modules/${r}/kernel/vmlinux`,
    `/usr/lib/debug/boot/vmlinux-${r}`,
    `/usr/lib/debug/boot/vmlinux-${r}.debug`,
    `/usr/lib/debug/lib/modules/${r}/vmlinux`,
  ];
}

/** Options for {@link loadKernelBtf} and {@link KernelBtfCache}. */
export interface KernelBtfOptions {
  /** A BTF file to use instead of discovery (pwru's `--kernel-btf`). */
  path?: string;
  /** Kernel release for the discovery paths (default: the running kernel's). */
  release?: string;
  /** Candidate paths to try instead of libbpf's list (for tests and unusual layouts). */
  candidates?: string[];
  /** Directory of module BTF files (default `/sys/kernel/btf`). */
  moduleDir?: string;
  /** Reads a file's bytes (default `readFileSync`); e.g. to map `/sys/kernel/btf/*` instead. */
  read?: (path: string) => Uint8Array;
}

/**
 * Finds and parses the kernel's BTF: the explicit `path`, else the first readable, parseable file in
 * libbpf's order. Throws `KernelBtfNotFoundError` naming every path tried.
 */
export function loadKernelBtf(options: KernelBtfOptions = {}): Btf {
  const read = options.read ?? readFileSync;
  if (options.path) return loadBtfFile(options.path, { read });
  const tried = options.candidates ?? kernelBtfPaths(options.release);
  const problems: string[] = [];
  for (const p of tried) {
    let bytes: Uint8Array;
    try {
      bytes = read(p);
    } catch {
      continue;
    }
    try {
      return parseBtfOrElf(bytes);
    } catch (e) {
      problems.push(`${p}: ${(e as Error).message}`);
    }
  }
  throw new KernelBtfNotFoundError(tried, problems.length ? problems.join('; ') : undefined);
}

/**
 * An explicit cache of kernel BTF: vmlinux parsed once, module BTF parsed on first use on top of it.
 * Nothing is cached behind your back; call `flush()` to drop everything (e.g. after a module load).
 */
export class KernelBtfCache {
  private vmlinuxBtf: Btf | undefined;
  private readonly mods = new Map<string, Btf>();

  constructor(private readonly options: KernelBtfOptions = {}) {}

  /** The kernel's vmlinux BTF, parsed on first use. */
  vmlinux(): Btf {
    this.vmlinuxBtf ??= loadKernelBtf(this.options);
    return this.vmlinuxBtf;
  }

  /** A module's split BTF from `/sys/kernel/btf/<name>`, parsed on first use on top of vmlinux. */
  module(name: string): Btf {
    let m = this.mods.get(name);
    if (!m) {
      if (!/^[A-Za-z0-9_.-]+$/.test(name) || name === 'vmlinux') throw new BtfError(`bad kernel module name '${name}'`);
      m = loadBtfFile(`${this.moduleDir}/${name}`, {
        base: this.vmlinux(),
        ...(this.options.read ? { read: this.options.read } : {}),
      });
      this.mods.set(name, m);
    }
    return m;
  }

  /** Names of the modules that have BTF (entries of `/sys/kernel/btf` other than vmlinux). */
  moduleNames(): string[] {
    try {
      return readdirSync(this.moduleDir)
        .filter((n) => n !== 'vmlinux')
        .sort();
    } catch {
      return [];
    }
  }

  /** Drops every cached blob; the next call parses again. */
  flush(): void {
    this.vmlinuxBtf = undefined;
    this.mods.clear();
  }

  private get moduleDir(): string {
    return this.options.moduleDir ?? '/sys/kernel/btf';
  }
}
