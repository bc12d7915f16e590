/**
 * Types of bpf-syscall.mjs: a minimal, test-only bpf(2) client through koffi for the in-kernel
 * tests of asm, btf and pcap2ebpf (which may not depend on bpf-loader-ts, the real loader) and
 * for pcap2ebpf's benchmark. x86-64 Linux only; every call is synchronous.
 *
 * @example
 * const bpf = TestBpf.open();
 * if (typeof bpf === 'string') console.log(`skipping: ${bpf}`);
 * else {
 *   const fd = bpf.load(PROG_TYPE.socket_filter, bytecode);
 *   const { retval } = bpf.testRun(fd, packet);
 *   bpf.close(fd);
 * }
 */

/** Program types (enum bpf_prog_type) the tests load. */
export declare const PROG_TYPE: { readonly socket_filter: 1; readonly sched_cls: 3; readonly xdp: 6 };

/** Map types (enum bpf_map_type) the tests create. */
export declare const MAP_TYPE: { readonly hash: 1; readonly array: 2 };

/** The symbolic name of an errno bpf(2) commonly returns (`EPERM`), else `errno N`. */
export declare function errnoName(errno: number): string;

/** A bpf(2) command failed; the message names the command and the errno. */
export declare class BpfSyscallError extends Error {
  /** The command, e.g. `BPF_MAP_CREATE`. */
  readonly command: string;
  /** The positive errno. */
  readonly errno: number;
}

/** The verifier rejected a program; the message ends with the log's last lines. */
export declare class ProgramLoadError extends BpfSyscallError {
  /** The whole verifier log (log level 1). */
  readonly log: string;
}

/** The outcome of a BPF_BTF_LOAD: whether the kernel accepted the blob, the errno, the log. */
export interface BtfLoadResult {
  /** True when the kernel accepted the blob (its fd is closed already). */
  readonly ok: boolean;
  /** The errno of a rejection; 0 when accepted. */
  readonly errno: number;
  /** The kernel's BTF log (log level 1). */
  readonly log: string;
}

/** The outcome of a BPF_PROG_TEST_RUN. */
export interface TestRunResult {
  /** The program's return value (as u32). */
  readonly retval: number;
  /** Mean nanoseconds per run, over `repeat` runs. */
  readonly duration: number;
}

/** The kernel interface: maps, programs, BTF and test runs by raw bpf(2) commands. */
export declare class TestBpf {
  /**
   * The interface, or the reason in-kernel tests must skip: not Linux x86-64, koffi cannot bind
   * libc, or the kernel refuses a trivial socket filter (not root, BPF disabled).
   */
  static open(): TestBpf | string;
  /** BPF_MAP_CREATE; returns the map fd or throws BpfSyscallError. */
  createMap(type: number, keySize: number, valueSize: number, maxEntries: number): number;
  /** An array map (u32 keys) of `maxEntries` (default 1) values of `valueSize` bytes. */
  createArrayMap(valueSize: number, maxEntries?: number): number;
  /** BPF_MAP_UPDATE_ELEM (flags BPF_ANY); throws BpfSyscallError. */
  update(map: number, key: Uint8Array, value: Uint8Array): void;
  /** Writes `value` into slot `index` of an array map. */
  updateArray(map: number, index: number, value: Uint8Array): void;
  /** BPF_MAP_LOOKUP_ELEM: a copy of the `valueSize`-byte value; throws BpfSyscallError (ENOENT). */
  lookup(map: number, key: Uint8Array, valueSize: number): Buffer;
  /**
   * BPF_PROG_LOAD of GPL-licensed bytecode (8-byte instructions), named `name` (at most 15
   * characters kept) if given. Loads without a log first and retries with one only on failure,
   * then throws ProgramLoadError carrying the verifier log.
   */
  load(type: number, insns: Uint8Array, name?: string): number;
  /** BPF_BTF_LOAD with log level 1; closes the fd and reports the verdict instead of throwing. */
  loadBtf(blob: Uint8Array): BtfLoadResult;
  /**
   * BPF_PROG_TEST_RUN on a copy of `data`, `repeat` times (default 1); throws BpfSyscallError.
   * Socket filters and tc programs see `data` as an Ethernet frame.
   */
  testRun(prog: number, data: Uint8Array, repeat?: number): TestRunResult;
  /** Closes a map or program fd. */
  close(fd: number): void;
}

/**
 * The BTF id of a kernel function in /sys/kernel/btf/vmlinux (for kfunc calls), looked up once
 * with bpftool as a test-time oracle; `undefined` when bpftool, the BTF or the function is missing.
 */
export declare function vmlinuxFuncId(name: string): number | undefined;
