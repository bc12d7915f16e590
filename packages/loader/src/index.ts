/** bpf-loader-ts: Load eBPF maps and programs, attach links and read ring/perf buffers from Node through koffi, with no native build. */
export * from './errors.js';
export { Errno, errnoName, errnoDescription } from './sys/errno.js';
export type { SyscallBackend, NativeMemory, MappedRegion, FdWatcher } from './sys/backend.js';
export { defaultBackend, setDefaultBackend } from './sys/backend.js';
export { KoffiBackend } from './sys/koffi-backend.js';
export { FakeBackend, type FakeCall } from './sys/fake-backend.js';
export { Bpf, bpfFor } from './sys/bpf.js';
export { possibleCpus, onlineCpus, parseCpuList } from './sys/cpus.js';
export * from './sys/generated/constants.js';
export * as attr from './sys/attr.js';
export { defineLayout, type LayoutField, type Layout } from './sys/layout.js';
export { FdHandle } from './fd.js';
export * from './map/spec.js';
export {
  BpfMap,
  sumPerCpuCounter,
  splitPerCpu,
  mapTypeName,
  type MapKey,
  type MapInfoResult,
  type MapOpenOptions,
} from './map/map.js';
export * as codec from './map/codec.js';
export { CodecError, codecFromBtf, type Codec, type CodecValue } from './map/codec.js';
export { MapView } from './map/view.js';
export * from './prog/spec.js';
export {
  Program,
  enableStats,
  kernelVersionCode,
  programTypeName,
  readProgramInfo,
  MAX_LOG_SIZE,
  type ProgramOptions,
  type ProgramInfo,
  type ProgramStats,
  type TestRunOptions,
  type TestRunResult,
} from './prog/program.js';
export { VerifierError, analyzeVerifierLog, type VerifierFailure } from './prog/verifier-error.js';
export { RelocationError, prepareInstructions, type PreparedInstructions } from './prog/instructions.js';
export {
  loadedPrograms,
  objectIds,
  programFunctions,
  programFunctionNames,
  type LoadedProgramInfo,
  type ProgramFunction,
} from './prog/enumerate.js';
export { BtfHandle, BtfLoadError } from './btf/handle.js';
export { Attachment, Link, linkTypeName, type LinkInfoResult } from './link/link.js';
export {
  attachRawTracepoint,
  attachTracing,
  isTracingAttachType,
  type TracingAttachOptions,
  type TracingAttachType,
} from './link/tracing.js';
export {
  tracepointBtfId,
  functionBtfId,
  moduleFunctionTarget,
  kernelBtf,
  shareKernelBtf,
  flushKernelBtf,
} from './link/targets.js';
export {
  attachPerfEvent,
  attachTracepoint,
  perfEventOpen,
  PerfEventAttachment,
  PerfType,
  PerfIoctl,
  PERF_COUNT_SW_BPF_OUTPUT,
  PERF_SAMPLE_RAW,
  PERF_FLAG_FD_CLOEXEC,
  type PerfEventOpenOptions,
} from './link/perf-event.js';
export { attachKprobe, kprobePmu, openKprobe, type KprobeOptions, type KprobePmu } from './link/kprobe.js';
export { withExpeditedRcu, ExpeditedRcuError, RCU_EXPEDITED_PATH } from './link/expedited-rcu.js';
export { attachKprobeMulti, KPROBE_MULTI_RETURN, type KprobeMultiOptions } from './link/kprobe-multi.js';
export {
  attachKprobes,
  KprobeSet,
  type KprobeBatchOptions,
  type KprobeDetachOptions,
  type KprobeFailure,
  type KprobeFailureReason,
  type BatchProgress,
} from './link/batch.js';
export {
  attachXdp,
  attachTcx,
  ifindexOf,
  XdpMode,
  type Interface,
  type NetnsOption,
  type TcxDirection,
  type TcxOptions,
  type XdpOptions,
} from './link/netdev.js';
export { withNetns, netnsPath, NetnsRestoreError, CLONE_NEWNET, type Netns } from './link/netns.js';
export { RingBufReader, type RecordHandler } from './reader/ringbuf.js';
export { Mmap, PAGE_SIZE } from './reader/mmap.js';
export { PerfBufReader, type PerfBufOptions, type SampleHandler } from './reader/perf.js';
export {
  probeProgramType,
  probeMapType,
  probeHelper,
  probeLinkType,
  probeBtf,
  probeKernelBtf,
  probeTracefs,
  requireFeature,
  flushFeatureCache,
  type ProbeResult,
  type ProbedLinkType,
} from './features/probes.js';
export { attachTcLegacy, TcFilter, type TcLegacyOptions } from './link/tc.js';
export { NetlinkMessage, NlFlag, rtnetlinkRequest } from './link/netlink.js';
export { programFunctionTarget } from './link/program-target.js';
export type { TracingTarget } from './link/targets.js';
export { raiseOpenFileLimit } from './sys/rlimit.js';
export { trimMallocHeap } from './sys/malloc.js';
export {
  removeMemlockLimit,
  kernelChargesMemlock,
  MemlockLimitError,
  RLIMIT_MEMLOCK,
  type MemlockOutcome,
} from './sys/memlock.js';
export {
  BPFFS_PATH,
  TRACEFS_PATHS,
  NotMountedError,
  bpffsRoot,
  findBpffs,
  findTracefs,
  mountBpffs,
  mountTracefs,
  parseMounts,
  readMounts,
  tracefsRoot,
  type MountEntry,
  type MountOptions,
  type MountResult,
} from './fs/mounts.js';
export { ElfError, parseElf, type ElfFile, type ElfSection, type ElfSymbol, type ElfRelocation } from './elf/elf.js';
export {
  BtfExtError,
  CoreReloKind,
  parseBtfExt,
  type BtfExt,
  type CoreReloRecord,
  type FuncInfoRecord,
  type LineInfoRecord,
} from './object/btf-ext.js';
export { resolveSection, type SectionDef, type ResolvedSection } from './object/sections.js';
export { MapDefinitionError, type ObjectMapSpec } from './object/maps.js';
export {
  ObjectError,
  parseObject,
  type ObjectSpec,
  type ObjectProgramSpec,
  type ObjectFunction,
  type ObjectExtern,
} from './object/parse.js';
export {
  BpfObject,
  loadObject,
  loadObjectFile,
  globalVariables,
  type LoadObjectOptions,
  type GlobalValue,
  type GlobalVariable,
} from './object/load.js';
export { CoreRelocationError, essentialName } from './core/spec.js';
export { applyCoreRelocations, POISON_IMM, type CoreTargets, type CoreRelocationResult } from './core/relocate.js';
export { attachBySection, autoAttachable, type AttachBySectionOptions } from './object/attach.js';
export { btfCodec, tsTypeOf, type BtfCodec, type BtfValue } from './object/codec.js';
export { TypedMap, GlobalSection } from './object/typed.js';
export { generateSkeleton, sectionProperty, type SkeletonOptions } from './object/skeleton.js';
export { KconfigError, layoutKconfig, readKernelConfig, kconfigBytes, type KconfigSlot } from './object/kconfig.js';
