/** Types of bpf.mjs: a minimal, test-only bpf(2) client through koffi. */

/** Program types the tests load. */
export declare const PROG_TYPE: { readonly socket_filter: 1; readonly sched_cls: 3; readonly xdp: 6 };

/** A verifier rejection with its log. */
export declare class ProgramLoadError extends Error {
  readonly errno: number;
  readonly log: string;
}

/** The kernel interface. */
export declare class TestBpf {
  /** The interface, or why it is unavailable (not Linux x86-64, no privileges, no BPF). */
  static open(): TestBpf | string;
  /** Creates an array map with u32 keys. */
  createArrayMap(valueSize: number, maxEntries?: number): number;
  /** Writes `value` (at most 16 KiB - 8) into an array map slot. */
  updateArray(fd: number, index: number, value: Uint8Array): void;
  /** Loads a program; throws ProgramLoadError with the verifier log. */
  load(type: number, insns: Uint8Array, name?: string): number;
  /** Test-runs a program on `data`; `duration` is the mean ns per run. */
  testRun(fd: number, data: Uint8Array, repeat?: number): { retval: number; duration: number };
  /** Closes an fd. */
  close(fd: number): void;
}
