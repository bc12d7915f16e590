import { release } from 'node:os';
import { errorFromErrno, InvalidArgumentError } from '../errors.js';
import { memlockError } from '../sys/memlock.js';
import { FdHandle } from '../fd.js';
import { getInfoByFd, type ObjectInfo } from '../info.js';
import { openPinned, pinFd } from '../map/map.js';
import { EnableStatsAttr, GetIdAttr, ProgInfo, ProgLoadAttr, TestRunAttr } from '../sys/attr.js';
import { defaultBackend, type SyscallBackend, type NativeMemory } from '../sys/backend.js';
import { bpfFor, nativeBytes, nativeString } from '../sys/bpf.js';
import { Errno } from '../sys/errno.js';
import { BpfCommand, ProgramType } from '../sys/generated/constants.js';
import { readBigInt, readNumber, readString } from '../sys/layout.js';
import { prepareInstructions } from './instructions.js';
import type { ProgramSpec } from './spec.js';
import { VerifierError } from './verifier-error.js';

/** Options for loading or opening programs. */
export interface ProgramOptions {
  /** Syscall backend (default: the process-wide koffi backend). */
  readonly backend?: SyscallBackend;
  /** Verifier log level for the retry after a failed load (1 = instructions, 2 = verbose). */
  readonly logLevel?: 1 | 2;
  /** First log buffer size in bytes (grown on ENOSPC up to {@link MAX_LOG_SIZE}). */
  readonly logSize?: number;
}

/** Largest verifier log buffer the loader will try (the kernel caps log_size below 4 GiB). */
export const MAX_LOG_SIZE = 1 << 30;

/** Input and options of BPF_PROG_TEST_RUN. */
export interface TestRunOptions {
  /** Packet (or other) data in. */
  readonly data?: Uint8Array;
  /** Room for data out (default: data length + 512). */
  readonly dataOutSize?: number;
  /** Context in (e.g. a `struct __sk_buff`). */
  readonly context?: Uint8Array;
  /** Room for context out (default: context length). */
  readonly contextOutSize?: number;
  /** Repetitions (duration is averaged over them). */
  readonly repeat?: number;
  /** BPF_F_TEST_* flags. */
  readonly flags?: number;
  /** CPU to run on (with BPF_F_TEST_RUN_ON_CPU). */
  readonly cpu?: number;
}

/** Result of BPF_PROG_TEST_RUN. */
export interface TestRunResult {
  /** The program's return value. */
  readonly retval: number;
  /** Average run time per repetition, in ns. */
  readonly durationNs: number;
  /** Data after the run (possibly modified or resized by the program). */
  readonly data: Uint8Array;
  /** Context after the run. */
  readonly context: Uint8Array;
}

/** Runtime statistics (collected while stats are enabled; see {@link enableStats}). */
export interface ProgramStats {
  /** Number of runs. */
  readonly runCount: bigint;
  /** Total run time in ns. */
  readonly runTimeNs: bigint;
  /** Runs skipped because the program was already running on that CPU. */
  readonly recursionMisses: bigint;
}

/** What the kernel reports about a program. */
export interface ProgramInfo extends ObjectInfo, ProgramStats {
  /** {@link ProgramType} value. */
  readonly type: number;
  /** Name (15 chars max). */
  readonly name: string;
  /** Tag: hex SHA of the instructions, as bpftool shows it. */
  readonly tag: string;
  /** Id of the program's BTF (0 if none). */
  readonly btfId: number;
  /** Ids of the maps the program uses. */
  readonly mapIds: readonly number[];
  /** Instructions the verifier processed. */
  readonly verifiedInstructions: number;
  /** Size of the translated program in bytes. */
  readonly xlatedLength: number;
  /** Size of the JITed image in bytes. */
  readonly jitedLength: number;
  /** Boot-time ns when it was loaded. */
  readonly loadTime: bigint;
  /** Attach BTF id (tracing programs). */
  readonly attachBtfId: number;
  /** Number of func_info records (programs with BTF). */
  readonly funcInfoCount: number;
}

const typeNames = new Map<number, string>(Object.entries(ProgramType).map(([k, v]) => [v, k.toLowerCase()]));

/** Lower-case name of a program type (`sched_cls`). */
export function programTypeName(type: number): string {
  return typeNames.get(type) ?? `program type ${type}`;
}

/** A loaded program: owns its fd (close() or `using`). */
export class Program extends FdHandle {
  private constructor(
    fd: number,
    backend: SyscallBackend,
    /** {@link ProgramType} value. */
    readonly type: number,
    /** Name. */
    readonly name: string,
  ) {
    super(fd, backend);
  }

  protected describe(): string {
    return `program "${this.name}"`;
  }

  /** Description used in error messages, e.g. `program "filter"`. */
  describeTarget(): string {
    return this.describe();
  }

  /**
   * Loads a program. The first attempt runs without a verifier log (fast); if it fails, the
   * load is retried with a log (grown on ENOSPC) and a {@link VerifierError} carries it.
   */
  static load(spec: ProgramSpec, opts: ProgramOptions = {}): Program {
    const backend = opts.backend ?? defaultBackend();
    const name = spec.name ?? '';
    if (name.length > 15 || !/^[A-Za-z0-9_.]*$/.test(name)) {
      throw new InvalidArgumentError(
        Errno.EINVAL,
        `load program "${name}"`,
        'names are at most 15 chars of [A-Za-z0-9_.]',
      );
    }
    const prepared = prepareInstructions(spec);
    const owned: NativeMemory[] = [];
    const hold = (m: NativeMemory) => (owned.push(m), m);
    try {
      const insns = hold(nativeBytes(backend, prepared.bytes));
      const license = hold(nativeString(backend, spec.license ?? 'GPL'));
      const funcInfo = spec.btf?.funcInfo ? hold(nativeBytes(backend, spec.btf.funcInfo)) : undefined;
      const lineInfo = spec.btf?.lineInfo ? hold(nativeBytes(backend, spec.btf.lineInfo)) : undefined;
      let fdArray: NativeMemory | undefined;
      if (spec.fdArray?.length) {
        fdArray = hold(backend.alloc(spec.fdArray.length * 4));
        spec.fdArray.forEach((fd, i) => fdArray!.view.setInt32(i * 4, fd, true));
      }
      const funcRec = spec.btf?.funcInfoRecSize ?? 8;
      const lineRec = spec.btf?.lineInfoRecSize ?? 16;
      const base = {
        progType: spec.type,
        insnCnt: prepared.bytes.length / 8,
        insns: insns.address,
        license: license.address,
        kernVersion: spec.kernVersion ?? (spec.type === ProgramType.KPROBE ? kernelVersionCode() : undefined),
        progFlags: spec.flags,
        progName: name,
        expectedAttachType: spec.expectedAttachType,
        progBtfFd: spec.btf?.fd,
        funcInfoRecSize: funcInfo ? funcRec : undefined,
        funcInfo: funcInfo?.address,
        funcInfoCnt: funcInfo ? funcInfo.size / funcRec : undefined,
        lineInfoRecSize: lineInfo ? lineRec : undefined,
        lineInfo: lineInfo?.address,
        lineInfoCnt: lineInfo ? lineInfo.size / lineRec : undefined,
        attachBtfId: spec.attachBtfId,
        attachProgFd: spec.attachProgFd ?? spec.attachBtfObjFd,
        fdArray: fdArray?.address,
      };
      const sys = bpfFor(backend);
      const what = `BPF_PROG_LOAD ${programTypeName(spec.type)} "${name}"`;
      let r = sys.raw(BpfCommand.PROG_LOAD, ProgLoadAttr, base);
      if (r >= 0) return new Program(r, backend, spec.type, name);
      const firstErr = -r;
      if (firstErr === Errno.EPERM || firstErr === Errno.E2BIG || firstErr === Errno.ENOTSUPP) {
        throw (
          memlockError(backend, BpfCommand.PROG_LOAD, firstErr, what) ??
          loadError(firstErr, what, spec, prepared.bytes.length / 8)
        );
      }
      // Retry with a verifier log, growing it while the kernel says ENOSPC.
      let size = opts.logSize ?? 1 << 16;
      for (;;) {
        const log = backend.alloc(size);
        try {
          r = sys.raw(BpfCommand.PROG_LOAD, ProgLoadAttr, {
            ...base,
            logLevel: opts.logLevel ?? 1,
            logSize: size,
            logBuf: log.address,
          });
          if (r >= 0) return new Program(r, backend, spec.type, name);
          const trueSize = sys.attr.view.getUint32(ProgLoadAttr.fields.logTrueSize.offset, true);
          if (-r === Errno.ENOSPC && size < MAX_LOG_SIZE) {
            size = Math.min(MAX_LOG_SIZE, Math.max(size * 4, trueSize + 1));
            continue;
          }
          const text = decodeLog(log);
          if (!text.trim()) throw loadError(-r, what, spec, prepared.bytes.length / 8);
          throw new VerifierError(`"${name}"`, -r, splitLog(text), -r === Errno.ENOSPC, prepared.commentAt);
        } finally {
          log.free();
        }
      }
    } finally {
      for (const m of owned) m.free();
    }
  }

  /** Wraps an existing program fd (takes ownership). */
  static fromFd(fd: number, opts: ProgramOptions = {}): Program {
    const backend = opts.backend ?? defaultBackend();
    try {
      const info = readProgramInfo(backend, fd);
      return new Program(fd, backend, info.type, info.name);
    } catch (e) {
      backend.close(fd);
      throw e;
    }
  }

  /** Opens a program by its system-wide id. */
  static fromId(id: number, opts: ProgramOptions = {}): Program {
    const backend = opts.backend ?? defaultBackend();
    const fd = bpfFor(backend).call(
      BpfCommand.PROG_GET_FD_BY_ID,
      GetIdAttr,
      { id },
      {
        operation: `open program id ${id}`,
        hints: { ENOENT: `no program with id ${id} (it was unloaded)` },
      },
    );
    return Program.fromFd(fd, { backend });
  }

  /** Opens a program pinned in bpffs. */
  static fromPinned(path: string, opts: ProgramOptions = {}): Program {
    const backend = opts.backend ?? defaultBackend();
    return Program.fromFd(openPinned(backend, path, 'program'), { backend });
  }

  /** Pins the program at a bpffs path. */
  pin(path: string): void {
    pinFd(this.backend, this.fd, path, this.describe());
  }

  /** Kernel information about the program. */
  info(): ProgramInfo {
    return readProgramInfo(this.backend, this.fd);
  }

  /** The program tag (hex), as bpftool prints it. */
  get tag(): string {
    return this.info().tag;
  }

  /** Run count, run time and recursion misses (counted while {@link enableStats} is active). */
  stats(): ProgramStats {
    const { runCount, runTimeNs, recursionMisses } = this.info();
    return { runCount, runTimeNs, recursionMisses };
  }

  /** Runs the program once or `repeat` times on given input (BPF_PROG_TEST_RUN). */
  testRun(opts: TestRunOptions = {}): TestRunResult {
    const b = this.backend;
    const data = opts.data ?? new Uint8Array(0);
    const dataOutSize = opts.dataOutSize ?? (data.length ? data.length + 512 : 0);
    const ctx = opts.context;
    const ctxOutSize = opts.contextOutSize ?? ctx?.length ?? 0;
    const mem = [
      data.length ? nativeBytes(b, data) : undefined,
      dataOutSize ? b.alloc(dataOutSize) : undefined,
      ctx?.length ? nativeBytes(b, ctx) : undefined,
      ctxOutSize ? b.alloc(ctxOutSize) : undefined,
    ] as const;
    const [din, dout, cin, cout] = mem;
    try {
      const sys = bpfFor(b);
      sys.call(
        BpfCommand.PROG_TEST_RUN,
        TestRunAttr,
        {
          progFd: this.fd,
          dataSizeIn: data.length,
          dataSizeOut: dataOutSize,
          dataIn: din?.address,
          dataOut: dout?.address,
          repeat: opts.repeat,
          ctxSizeIn: ctx?.length,
          ctxSizeOut: ctxOutSize,
          ctxIn: cin?.address,
          ctxOut: cout?.address,
          flags: opts.flags,
          cpu: opts.cpu,
        },
        {
          operation: `test run of ${this.describe()}`,
          hints: {
            EINVAL:
              'this program type needs different input (packet programs need data >= 14 bytes; some types take only a context)',
            ENOTSUPP: `${programTypeName(this.type)} programs cannot be test-run on this kernel`,
            ENOSPC: 'the output did not fit: pass a larger dataOutSize/contextOutSize',
          },
        },
      );
      const v = sys.attr.view;
      const outLen = v.getUint32(TestRunAttr.fields.dataSizeOut.offset, true);
      const ctxLen = v.getUint32(TestRunAttr.fields.ctxSizeOut.offset, true);
      return {
        retval: v.getUint32(TestRunAttr.fields.retval.offset, true),
        durationNs: v.getUint32(TestRunAttr.fields.duration.offset, true),
        data: dout ? dout.bytes.slice(0, Math.min(outLen, dataOutSize)) : new Uint8Array(0),
        context: cout ? cout.bytes.slice(0, Math.min(ctxLen, ctxOutSize)) : new Uint8Array(0),
      };
    } finally {
      for (const m of mem) m?.free();
    }
  }
}

/**
 * LINUX_VERSION_CODE of the running kernel (major << 16 | minor << 8 | min(patch, 255)): kernels
 * before 5.0 refuse kprobe programs whose kern_version does not match.
 */
export function kernelVersionCode(releaseString: string = release()): number {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(releaseString);
  if (!m) return 0;
  return (Number(m[1]) << 16) | (Number(m[2]) << 8) | Math.min(255, Number(m[3] ?? 0));
}

function loadError(errno: number, what: string, spec: ProgramSpec, insnCount: number) {
  return errorFromErrno(errno, {
    operation: what,
    needsNetAdmin:
      spec.type === ProgramType.XDP || spec.type === ProgramType.SCHED_CLS || spec.type === ProgramType.SCHED_ACT,
    hints: {
      E2BIG: `the program has ${insnCount} instructions, more than this kernel accepts`,
      EINVAL: `the kernel rejected the load attributes (prog_type=${programTypeName(spec.type)}, expected_attach_type=${spec.expectedAttachType ?? 0}, attach_btf_id=${spec.attachBtfId ?? 0}, attach_prog_fd=${spec.attachProgFd ?? 0}, license="${spec.license ?? 'GPL'}")`,
      ENOTSUPP: `${programTypeName(spec.type)} programs with these attach options are not supported by this kernel`,
      ENOENT: spec.attachBtfId ? `attach target BTF id ${spec.attachBtfId} not found` : undefined,
    },
  });
}

/**
 * Splits a verifier log into lines. Some kernel messages lack their trailing newline, so the
 * "processed N insns" summary can be glued to the rejecting line: split it off.
 */
export function splitLog(text: string): string[] {
  const lines = text.replace(/([^\n])(processed \d+ insns)/g, '$1\n$2').split('\n');
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function decodeLog(log: NativeMemory): string {
  const end = log.bytes.indexOf(0);
  return new TextDecoder().decode(log.bytes.subarray(0, end < 0 ? log.size : end));
}

function hex(bytes: DataView, offset: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++)
    s += bytes
      .getUint8(offset + i)
      .toString(16)
      .padStart(2, '0');
  return s;
}

/** Reads a program's info, including its map ids. */
export function readProgramInfo(backend: SyscallBackend, fd: number): ProgramInfo {
  const F = ProgInfo.fields;
  const first = getInfoByFd(backend, fd, ProgInfo, 'program').view;
  const nrMaps = readNumber(first, F.nrMapIds);
  let mapIds: number[] = [];
  if (nrMaps > 0) {
    const ids = backend.alloc(nrMaps * 4);
    try {
      getInfoByFd(backend, fd, ProgInfo, 'program', (v) => {
        v.setUint32(F.nrMapIds.offset, nrMaps, true);
        v.setBigUint64(F.mapIds.offset, BigInt(ids.address), true);
      });
      mapIds = Array.from({ length: nrMaps }, (_, i) => ids.view.getUint32(i * 4, true));
    } finally {
      ids.free();
    }
  }
  return {
    id: readNumber(first, F.id),
    type: readNumber(first, F.type),
    name: readString(first, F.name),
    tag: hex(first, F.tag.offset, 8),
    btfId: readNumber(first, F.btfId),
    mapIds,
    verifiedInstructions: readNumber(first, F.verifiedInsns),
    xlatedLength: readNumber(first, F.xlatedProgLen),
    jitedLength: readNumber(first, F.jitedProgLen),
    loadTime: readBigInt(first, F.loadTime),
    attachBtfId: readNumber(first, F.attachBtfId),
    funcInfoCount: readNumber(first, F.nrFuncInfo),
    runCount: readBigInt(first, F.runCnt),
    runTimeNs: readBigInt(first, F.runTimeNs),
    recursionMisses: readBigInt(first, F.recursionMisses),
  };
}

/**
 * Turns on run-time statistics (BPF_ENABLE_STATS) for as long as the returned handle is open;
 * program stats then count runs and time.
 */
export function enableStats(opts: { backend?: SyscallBackend } = {}): Disposable & { close(): void } {
  const backend = opts.backend ?? defaultBackend();
  const fd = bpfFor(backend).call(
    BpfCommand.ENABLE_STATS,
    EnableStatsAttr,
    { type: 0 },
    { operation: 'BPF_ENABLE_STATS run_time' },
  );
  let open = true;
  const close = () => {
    if (open) backend.close(fd);
    open = false;
  };
  return { close, [Symbol.dispose]: close };
}
