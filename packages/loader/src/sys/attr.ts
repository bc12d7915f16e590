/**
 * `union bpf_attr` layouts, one per bpf(2) command, plus the info structs the kernel fills in.
 * Hand-written from the uapi header; `attr.test.ts` checks every offset and size against the
 * running kernel's BTF (via `bpftool btf dump`), so a mistake cannot survive a test run.
 */
import { defineLayout } from './layout.js';

const U = 'union bpf_attr';

/** BPF_MAP_CREATE. */
export const MapCreateAttr = defineLayout(U, {
  mapType: ['map_type', 0, 4],
  keySize: ['key_size', 4, 4],
  valueSize: ['value_size', 8, 4],
  maxEntries: ['max_entries', 12, 4],
  mapFlags: ['map_flags', 16, 4],
  innerMapFd: ['inner_map_fd', 20, 4],
  numaNode: ['numa_node', 24, 4],
  mapName: ['map_name', 28, 16, 'bytes'],
  mapIfindex: ['map_ifindex', 44, 4],
  btfFd: ['btf_fd', 48, 4],
  btfKeyTypeId: ['btf_key_type_id', 52, 4],
  btfValueTypeId: ['btf_value_type_id', 56, 4],
  btfVmlinuxValueTypeId: ['btf_vmlinux_value_type_id', 60, 4],
  mapExtra: ['map_extra', 64, 8],
});

/** BPF_MAP_LOOKUP_ELEM, UPDATE_ELEM, DELETE_ELEM, GET_NEXT_KEY, LOOKUP_AND_DELETE_ELEM, FREEZE. */
export const MapElemAttr = defineLayout(U, {
  mapFd: ['map_fd', 0, 4],
  key: ['key', 8, 8],
  value: ['value', 16, 8],
  nextKey: ['next_key', 16, 8],
  flags: ['flags', 24, 8],
});

/** BPF_MAP_*_BATCH. */
export const MapBatchAttr = defineLayout(U, {
  inBatch: ['batch.in_batch', 0, 8],
  outBatch: ['batch.out_batch', 8, 8],
  keys: ['batch.keys', 16, 8],
  values: ['batch.values', 24, 8],
  count: ['batch.count', 32, 4],
  mapFd: ['batch.map_fd', 36, 4],
  elemFlags: ['batch.elem_flags', 40, 8],
  flags: ['batch.flags', 48, 8],
});

/** BPF_PROG_LOAD. */
export const ProgLoadAttr = defineLayout(U, {
  progType: ['prog_type', 0, 4],
  insnCnt: ['insn_cnt', 4, 4],
  insns: ['insns', 8, 8],
  license: ['license', 16, 8],
  logLevel: ['log_level', 24, 4],
  logSize: ['log_size', 28, 4],
  logBuf: ['log_buf', 32, 8],
  kernVersion: ['kern_version', 40, 4],
  progFlags: ['prog_flags', 44, 4],
  progName: ['prog_name', 48, 16, 'bytes'],
  progIfindex: ['prog_ifindex', 64, 4],
  expectedAttachType: ['expected_attach_type', 68, 4],
  progBtfFd: ['prog_btf_fd', 72, 4],
  funcInfoRecSize: ['func_info_rec_size', 76, 4],
  funcInfo: ['func_info', 80, 8],
  funcInfoCnt: ['func_info_cnt', 88, 4],
  lineInfoRecSize: ['line_info_rec_size', 92, 4],
  lineInfo: ['line_info', 96, 8],
  lineInfoCnt: ['line_info_cnt', 104, 4],
  attachBtfId: ['attach_btf_id', 108, 4],
  attachProgFd: ['attach_prog_fd', 112, 4],
  attachBtfObjFd: ['attach_btf_obj_fd', 112, 4],
  coreReloCnt: ['core_relo_cnt', 116, 4],
  fdArray: ['fd_array', 120, 8],
  coreRelos: ['core_relos', 128, 8],
  coreReloRecSize: ['core_relo_rec_size', 136, 4],
  logTrueSize: ['log_true_size', 140, 4],
});

/** BPF_OBJ_PIN and BPF_OBJ_GET. */
export const ObjAttr = defineLayout(U, {
  pathname: ['pathname', 0, 8],
  bpfFd: ['bpf_fd', 8, 4],
  fileFlags: ['file_flags', 12, 4],
});

/** BPF_PROG_ATTACH / BPF_PROG_DETACH (legacy attachment points). */
export const ProgAttachAttr = defineLayout(U, {
  targetFd: ['target_fd', 0, 4],
  attachBpfFd: ['attach_bpf_fd', 4, 4],
  attachType: ['attach_type', 8, 4],
  attachFlags: ['attach_flags', 12, 4],
  replaceBpfFd: ['replace_bpf_fd', 16, 4],
});

/** BPF_PROG_TEST_RUN. */
export const TestRunAttr = defineLayout(U, {
  progFd: ['test.prog_fd', 0, 4],
  retval: ['test.retval', 4, 4],
  dataSizeIn: ['test.data_size_in', 8, 4],
  dataSizeOut: ['test.data_size_out', 12, 4],
  dataIn: ['test.data_in', 16, 8],
  dataOut: ['test.data_out', 24, 8],
  repeat: ['test.repeat', 32, 4],
  duration: ['test.duration', 36, 4],
  ctxSizeIn: ['test.ctx_size_in', 40, 4],
  ctxSizeOut: ['test.ctx_size_out', 44, 4],
  ctxIn: ['test.ctx_in', 48, 8],
  ctxOut: ['test.ctx_out', 56, 8],
  flags: ['test.flags', 64, 4],
  cpu: ['test.cpu', 68, 4],
  batchSize: ['test.batch_size', 72, 4],
});

/** BPF_*_GET_NEXT_ID and BPF_*_GET_FD_BY_ID. */
export const GetIdAttr = defineLayout(U, {
  startId: ['start_id', 0, 4],
  id: ['prog_id', 0, 4],
  nextId: ['next_id', 4, 4],
  openFlags: ['open_flags', 8, 4],
});

/** BPF_OBJ_GET_INFO_BY_FD. */
export const InfoAttr = defineLayout(U, {
  bpfFd: ['info.bpf_fd', 0, 4],
  infoLen: ['info.info_len', 4, 4],
  info: ['info.info', 8, 8],
});

/** BPF_PROG_QUERY. */
export const ProgQueryAttr = defineLayout(U, {
  targetFd: ['query.target_fd', 0, 4],
  attachType: ['query.attach_type', 4, 4],
  queryFlags: ['query.query_flags', 8, 4],
  attachFlags: ['query.attach_flags', 12, 4],
  progIds: ['query.prog_ids', 16, 8],
  progCnt: ['query.prog_cnt', 24, 4],
});

/** BPF_RAW_TRACEPOINT_OPEN. */
export const RawTracepointAttr = defineLayout(U, {
  name: ['raw_tracepoint.name', 0, 8],
  progFd: ['raw_tracepoint.prog_fd', 8, 4],
  cookie: ['raw_tracepoint.cookie', 16, 8],
});

/** BPF_BTF_LOAD. */
export const BtfLoadAttr = defineLayout(U, {
  btf: ['btf', 0, 8],
  btfLogBuf: ['btf_log_buf', 8, 8],
  btfSize: ['btf_size', 16, 4],
  btfLogSize: ['btf_log_size', 20, 4],
  btfLogLevel: ['btf_log_level', 24, 4],
  btfLogTrueSize: ['btf_log_true_size', 28, 4],
});

/** BPF_LINK_CREATE (all link kinds share the head; the tail is a per-kind union). */
export const LinkCreateAttr = defineLayout(U, {
  progFd: ['link_create.prog_fd', 0, 4],
  targetFd: ['link_create.target_fd', 4, 4],
  targetIfindex: ['link_create.target_ifindex', 4, 4],
  attachType: ['link_create.attach_type', 8, 4],
  flags: ['link_create.flags', 12, 4],
  targetBtfId: ['link_create.target_btf_id', 16, 4],
  perfEventBpfCookie: ['link_create.perf_event.bpf_cookie', 16, 8],
  kprobeMultiFlags: ['link_create.kprobe_multi.flags', 16, 4],
  kprobeMultiCnt: ['link_create.kprobe_multi.cnt', 20, 4],
  kprobeMultiSyms: ['link_create.kprobe_multi.syms', 24, 8],
  kprobeMultiAddrs: ['link_create.kprobe_multi.addrs', 32, 8],
  kprobeMultiCookies: ['link_create.kprobe_multi.cookies', 40, 8],
  tracingTargetBtfId: ['link_create.tracing.target_btf_id', 16, 4],
  tracingCookie: ['link_create.tracing.cookie', 24, 8],
  tcxRelativeFd: ['link_create.tcx.relative_fd', 16, 4],
  tcxExpectedRevision: ['link_create.tcx.expected_revision', 24, 8],
});

/** BPF_LINK_DETACH. */
export const LinkDetachAttr = defineLayout(U, {
  linkFd: ['link_detach.link_fd', 0, 4],
});

/** BPF_ENABLE_STATS. */
export const EnableStatsAttr = defineLayout(U, {
  type: ['enable_stats.type', 0, 4],
});

/** BPF_PROG_BIND_MAP. */
export const ProgBindMapAttr = defineLayout(U, {
  progFd: ['prog_bind_map.prog_fd', 0, 4],
  mapFd: ['prog_bind_map.map_fd', 4, 4],
  flags: ['prog_bind_map.flags', 8, 4],
});

/** `struct bpf_prog_info`, filled by BPF_OBJ_GET_INFO_BY_FD on a program. */
export const ProgInfo = defineLayout(
  'struct bpf_prog_info',
  {
    type: ['type', 0, 4],
    id: ['id', 4, 4],
    tag: ['tag', 8, 8, 'bytes'],
    jitedProgLen: ['jited_prog_len', 16, 4],
    xlatedProgLen: ['xlated_prog_len', 20, 4],
    jitedProgInsns: ['jited_prog_insns', 24, 8],
    xlatedProgInsns: ['xlated_prog_insns', 32, 8],
    loadTime: ['load_time', 40, 8],
    createdByUid: ['created_by_uid', 48, 4],
    nrMapIds: ['nr_map_ids', 52, 4],
    mapIds: ['map_ids', 56, 8],
    name: ['name', 64, 16, 'bytes'],
    ifindex: ['ifindex', 80, 4],
    netnsDev: ['netns_dev', 88, 8],
    netnsIno: ['netns_ino', 96, 8],
    nrJitedKsyms: ['nr_jited_ksyms', 104, 4],
    nrJitedFuncLens: ['nr_jited_func_lens', 108, 4],
    jitedKsyms: ['jited_ksyms', 112, 8],
    jitedFuncLens: ['jited_func_lens', 120, 8],
    btfId: ['btf_id', 128, 4],
    funcInfoRecSize: ['func_info_rec_size', 132, 4],
    funcInfo: ['func_info', 136, 8],
    nrFuncInfo: ['nr_func_info', 144, 4],
    nrLineInfo: ['nr_line_info', 148, 4],
    lineInfo: ['line_info', 152, 8],
    jitedLineInfo: ['jited_line_info', 160, 8],
    nrJitedLineInfo: ['nr_jited_line_info', 168, 4],
    lineInfoRecSize: ['line_info_rec_size', 172, 4],
    jitedLineInfoRecSize: ['jited_line_info_rec_size', 176, 4],
    nrProgTags: ['nr_prog_tags', 180, 4],
    progTags: ['prog_tags', 184, 8],
    runTimeNs: ['run_time_ns', 192, 8],
    runCnt: ['run_cnt', 200, 8],
    recursionMisses: ['recursion_misses', 208, 8],
    verifiedInsns: ['verified_insns', 216, 4],
    attachBtfObjId: ['attach_btf_obj_id', 220, 4],
    attachBtfId: ['attach_btf_id', 224, 4],
  },
  232,
);

/** `struct bpf_map_info`. */
export const MapInfo = defineLayout('struct bpf_map_info', {
  type: ['type', 0, 4],
  id: ['id', 4, 4],
  keySize: ['key_size', 8, 4],
  valueSize: ['value_size', 12, 4],
  maxEntries: ['max_entries', 16, 4],
  mapFlags: ['map_flags', 20, 4],
  name: ['name', 24, 16, 'bytes'],
  ifindex: ['ifindex', 40, 4],
  btfVmlinuxValueTypeId: ['btf_vmlinux_value_type_id', 44, 4],
  netnsDev: ['netns_dev', 48, 8],
  netnsIno: ['netns_ino', 56, 8],
  btfId: ['btf_id', 64, 4],
  btfKeyTypeId: ['btf_key_type_id', 68, 4],
  btfValueTypeId: ['btf_value_type_id', 72, 4],
  btfVmlinuxId: ['btf_vmlinux_id', 76, 4],
  mapExtra: ['map_extra', 80, 8],
});

/** `struct bpf_link_info` (head plus the tracing / raw tracepoint tails). */
export const LinkInfo = defineLayout(
  'struct bpf_link_info',
  {
    type: ['type', 0, 4],
    id: ['id', 4, 4],
    progId: ['prog_id', 8, 4],
    rawTracepointTpName: ['raw_tracepoint.tp_name', 16, 8],
    rawTracepointTpNameLen: ['raw_tracepoint.tp_name_len', 24, 4],
    tracingAttachType: ['tracing.attach_type', 16, 4],
    tracingTargetObjId: ['tracing.target_obj_id', 20, 4],
    tracingTargetBtfId: ['tracing.target_btf_id', 24, 4],
  },
  64,
);

/** `struct perf_event_attr` (the fields the loader sets). */
export const PerfEventAttr = defineLayout(
  'struct perf_event_attr',
  {
    type: ['type', 0, 4],
    size: ['size', 4, 4],
    config: ['config', 8, 8],
    samplePeriod: ['sample_period', 16, 8],
    sampleType: ['sample_type', 24, 8],
    readFormat: ['read_format', 32, 8],
    wakeupEvents: ['wakeup_events', 48, 4],
    config1: ['config1', 56, 8],
    config2: ['config2', 64, 8],
  },
  112, // PERF_ATTR_SIZE_VER5: accepted by every kernel since 4.1
);

/** Bit positions in perf_event_attr's flag word at offset 40. */
export const PerfEventFlag = {
  disabled: 1n << 0n,
  inherit: 1n << 1n,
  excludeKernel: 1n << 5n,
  watermark: 1n << 14n,
} as const;

/** Byte offset of perf_event_attr's flag word. */
export const PERF_EVENT_ATTR_FLAGS_OFFSET = 40;

/** `struct bpf_btf_info`. */
export const BtfInfo = defineLayout('struct bpf_btf_info', {
  btf: ['btf', 0, 8],
  btfSize: ['btf_size', 8, 4],
  id: ['id', 12, 4],
  name: ['name', 16, 8],
  nameLen: ['name_len', 24, 4],
  kernelBtf: ['kernel_btf', 28, 4],
});

/** BPF_BTF_GET_FD_BY_ID (same shape as the other GET_FD_BY_ID commands). */
export const BtfGetFdAttr = defineLayout(U, {
  btfId: ['btf_id', 0, 4],
});

/** `struct perf_event_mmap_page`: the ring's control page (positions the reader uses). */
export const PerfEventMmapPage = defineLayout(
  'struct perf_event_mmap_page',
  {
    dataHead: ['data_head', 1024, 8],
    dataTail: ['data_tail', 1032, 8],
    dataOffset: ['data_offset', 1040, 8],
    dataSize: ['data_size', 1048, 8],
  },
  1056,
);
