#!/usr/bin/env node
// Regenerates src/sys/generated/layouts.ts: every kernel ABI struct layout the loader writes or
// reads (`union bpf_attr` per command, bpf_{prog,map,link,btf}_info, perf_event_attr,
// perf_event_mmap_page), with offsets and sizes resolved by member path in the kernel's BTF
// using our own btf-parser (anonymous members are searched through). The attr test checks the
// output against bpftool's dump, an independent reader.
// Usage: node scripts/gen-layouts.mjs [path/to/vmlinux-btf [label]]; `npm run generate` at the root runs it on
// the BTF committed in tools/generate/.   (build packages/btf first)
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadBtfFile, memberPath } from 'btf-parser';

const btfPath = process.argv[2] ?? '/sys/kernel/btf/vmlinux';
/** How the header names the source (npm run generate passes the committed file's path). */
const label = process.argv[3] ?? btfPath;
const btf = loadBtfFile(btfPath);

/**
 * Each layout: our name, its doc, the BTF type, fields as [ourName, memberPath, 'bytes'?], and an
 * explicit size where the ABI fixes one (otherwise the end of the last field, rounded to 8).
 */
const LAYOUTS = [
  {
    name: 'MapCreateAttr',
    doc: 'BPF_MAP_CREATE.',
    btf: 'union bpf_attr',
    fields: [
      ['mapType', 'map_type'],
      ['keySize', 'key_size'],
      ['valueSize', 'value_size'],
      ['maxEntries', 'max_entries'],
      ['mapFlags', 'map_flags'],
      ['innerMapFd', 'inner_map_fd'],
      ['numaNode', 'numa_node'],
      ['mapName', 'map_name', 'bytes'],
      ['mapIfindex', 'map_ifindex'],
      ['btfFd', 'btf_fd'],
      ['btfKeyTypeId', 'btf_key_type_id'],
      ['btfValueTypeId', 'btf_value_type_id'],
      ['btfVmlinuxValueTypeId', 'btf_vmlinux_value_type_id'],
      ['mapExtra', 'map_extra'],
    ],
  },
  {
    name: 'MapElemAttr',
    doc: 'BPF_MAP_LOOKUP_ELEM, UPDATE_ELEM, DELETE_ELEM, GET_NEXT_KEY, LOOKUP_AND_DELETE_ELEM, FREEZE.',
    btf: 'union bpf_attr',
    fields: [
      ['mapFd', 'map_fd'],
      ['key', 'key'],
      ['value', 'value'],
      ['nextKey', 'next_key'],
      ['flags', 'flags'],
    ],
  },
  {
    name: 'MapBatchAttr',
    doc: 'BPF_MAP_LOOKUP_BATCH, LOOKUP_AND_DELETE_BATCH, UPDATE_BATCH and DELETE_BATCH.',
    btf: 'union bpf_attr',
    fields: [
      ['inBatch', 'batch.in_batch'],
      ['outBatch', 'batch.out_batch'],
      ['keys', 'batch.keys'],
      ['values', 'batch.values'],
      ['count', 'batch.count'],
      ['mapFd', 'batch.map_fd'],
      ['elemFlags', 'batch.elem_flags'],
      ['flags', 'batch.flags'],
    ],
  },
  {
    name: 'ProgLoadAttr',
    doc: 'BPF_PROG_LOAD.',
    btf: 'union bpf_attr',
    fields: [
      ['progType', 'prog_type'],
      ['insnCnt', 'insn_cnt'],
      ['insns', 'insns'],
      ['license', 'license'],
      ['logLevel', 'log_level'],
      ['logSize', 'log_size'],
      ['logBuf', 'log_buf'],
      ['kernVersion', 'kern_version'],
      ['progFlags', 'prog_flags'],
      ['progName', 'prog_name', 'bytes'],
      ['progIfindex', 'prog_ifindex'],
      ['expectedAttachType', 'expected_attach_type'],
      ['progBtfFd', 'prog_btf_fd'],
      ['funcInfoRecSize', 'func_info_rec_size'],
      ['funcInfo', 'func_info'],
      ['funcInfoCnt', 'func_info_cnt'],
      ['lineInfoRecSize', 'line_info_rec_size'],
      ['lineInfo', 'line_info'],
      ['lineInfoCnt', 'line_info_cnt'],
      ['attachBtfId', 'attach_btf_id'],
      ['attachProgFd', 'attach_prog_fd'],
      ['attachBtfObjFd', 'attach_btf_obj_fd'],
      ['coreReloCnt', 'core_relo_cnt'],
      ['fdArray', 'fd_array'],
      ['coreRelos', 'core_relos'],
      ['coreReloRecSize', 'core_relo_rec_size'],
      ['logTrueSize', 'log_true_size'],
    ],
  },
  {
    name: 'ObjAttr',
    doc: 'BPF_OBJ_PIN and BPF_OBJ_GET.',
    btf: 'union bpf_attr',
    fields: [
      ['pathname', 'pathname'],
      ['bpfFd', 'bpf_fd'],
      ['fileFlags', 'file_flags'],
    ],
  },
  {
    name: 'ProgAttachAttr',
    doc: 'BPF_PROG_ATTACH / BPF_PROG_DETACH (legacy attachment points).',
    btf: 'union bpf_attr',
    fields: [
      ['targetFd', 'target_fd'],
      ['attachBpfFd', 'attach_bpf_fd'],
      ['attachType', 'attach_type'],
      ['attachFlags', 'attach_flags'],
      ['replaceBpfFd', 'replace_bpf_fd'],
    ],
  },
  {
    name: 'TestRunAttr',
    doc: 'BPF_PROG_TEST_RUN.',
    btf: 'union bpf_attr',
    fields: [
      ['progFd', 'test.prog_fd'],
      ['retval', 'test.retval'],
      ['dataSizeIn', 'test.data_size_in'],
      ['dataSizeOut', 'test.data_size_out'],
      ['dataIn', 'test.data_in'],
      ['dataOut', 'test.data_out'],
      ['repeat', 'test.repeat'],
      ['duration', 'test.duration'],
      ['ctxSizeIn', 'test.ctx_size_in'],
      ['ctxSizeOut', 'test.ctx_size_out'],
      ['ctxIn', 'test.ctx_in'],
      ['ctxOut', 'test.ctx_out'],
      ['flags', 'test.flags'],
      ['cpu', 'test.cpu'],
      ['batchSize', 'test.batch_size'],
    ],
  },
  {
    name: 'GetIdAttr',
    doc: 'BPF_{PROG,MAP,LINK,BTF}_GET_NEXT_ID and BPF_{PROG,MAP,LINK}_GET_FD_BY_ID.',
    btf: 'union bpf_attr',
    fields: [
      ['startId', 'start_id'],
      ['id', 'prog_id'],
      ['nextId', 'next_id'],
      ['openFlags', 'open_flags'],
    ],
  },
  {
    name: 'InfoAttr',
    doc: 'BPF_OBJ_GET_INFO_BY_FD.',
    btf: 'union bpf_attr',
    fields: [
      ['bpfFd', 'info.bpf_fd'],
      ['infoLen', 'info.info_len'],
      ['info', 'info.info'],
    ],
  },
  {
    name: 'ProgQueryAttr',
    doc: 'BPF_PROG_QUERY.',
    btf: 'union bpf_attr',
    fields: [
      ['targetFd', 'query.target_fd'],
      ['attachType', 'query.attach_type'],
      ['queryFlags', 'query.query_flags'],
      ['attachFlags', 'query.attach_flags'],
      ['progIds', 'query.prog_ids'],
      ['progCnt', 'query.prog_cnt'],
    ],
  },
  {
    name: 'RawTracepointAttr',
    doc: 'BPF_RAW_TRACEPOINT_OPEN.',
    btf: 'union bpf_attr',
    fields: [
      ['name', 'raw_tracepoint.name'],
      ['progFd', 'raw_tracepoint.prog_fd'],
      ['cookie', 'raw_tracepoint.cookie'],
    ],
  },
  {
    name: 'BtfLoadAttr',
    doc: 'BPF_BTF_LOAD.',
    btf: 'union bpf_attr',
    fields: [
      ['btf', 'btf'],
      ['btfLogBuf', 'btf_log_buf'],
      ['btfSize', 'btf_size'],
      ['btfLogSize', 'btf_log_size'],
      ['btfLogLevel', 'btf_log_level'],
      ['btfLogTrueSize', 'btf_log_true_size'],
    ],
  },
  {
    name: 'LinkCreateAttr',
    doc: 'BPF_LINK_CREATE (all link kinds share the head; the tail is a per-kind union).',
    btf: 'union bpf_attr',
    fields: [
      ['progFd', 'link_create.prog_fd'],
      ['targetFd', 'link_create.target_fd'],
      ['targetIfindex', 'link_create.target_ifindex'],
      ['attachType', 'link_create.attach_type'],
      ['flags', 'link_create.flags'],
      ['targetBtfId', 'link_create.target_btf_id'],
      ['perfEventBpfCookie', 'link_create.perf_event.bpf_cookie'],
      ['kprobeMultiFlags', 'link_create.kprobe_multi.flags'],
      ['kprobeMultiCnt', 'link_create.kprobe_multi.cnt'],
      ['kprobeMultiSyms', 'link_create.kprobe_multi.syms'],
      ['kprobeMultiAddrs', 'link_create.kprobe_multi.addrs'],
      ['kprobeMultiCookies', 'link_create.kprobe_multi.cookies'],
      ['tracingTargetBtfId', 'link_create.tracing.target_btf_id'],
      ['tracingCookie', 'link_create.tracing.cookie'],
      ['tcxRelativeFd', 'link_create.tcx.relative_fd'],
      ['tcxExpectedRevision', 'link_create.tcx.expected_revision'],
    ],
  },
  {
    name: 'LinkDetachAttr',
    doc: 'BPF_LINK_DETACH.',
    btf: 'union bpf_attr',
    fields: [['linkFd', 'link_detach.link_fd']],
  },
  {
    name: 'EnableStatsAttr',
    doc: 'BPF_ENABLE_STATS.',
    btf: 'union bpf_attr',
    fields: [['type', 'enable_stats.type']],
  },
  {
    name: 'ProgBindMapAttr',
    doc: 'BPF_PROG_BIND_MAP.',
    btf: 'union bpf_attr',
    fields: [
      ['progFd', 'prog_bind_map.prog_fd'],
      ['mapFd', 'prog_bind_map.map_fd'],
      ['flags', 'prog_bind_map.flags'],
    ],
  },
  {
    name: 'ProgInfo',
    doc: '`struct bpf_prog_info`, filled by BPF_OBJ_GET_INFO_BY_FD on a program.',
    btf: 'struct bpf_prog_info',
    size: 232,
    fields: [
      ['type', 'type'],
      ['id', 'id'],
      ['tag', 'tag', 'bytes'],
      ['jitedProgLen', 'jited_prog_len'],
      ['xlatedProgLen', 'xlated_prog_len'],
      ['jitedProgInsns', 'jited_prog_insns'],
      ['xlatedProgInsns', 'xlated_prog_insns'],
      ['loadTime', 'load_time'],
      ['createdByUid', 'created_by_uid'],
      ['nrMapIds', 'nr_map_ids'],
      ['mapIds', 'map_ids'],
      ['name', 'name', 'bytes'],
      ['ifindex', 'ifindex'],
      ['netnsDev', 'netns_dev'],
      ['netnsIno', 'netns_ino'],
      ['nrJitedKsyms', 'nr_jited_ksyms'],
      ['nrJitedFuncLens', 'nr_jited_func_lens'],
      ['jitedKsyms', 'jited_ksyms'],
      ['jitedFuncLens', 'jited_func_lens'],
      ['btfId', 'btf_id'],
      ['funcInfoRecSize', 'func_info_rec_size'],
      ['funcInfo', 'func_info'],
      ['nrFuncInfo', 'nr_func_info'],
      ['nrLineInfo', 'nr_line_info'],
      ['lineInfo', 'line_info'],
      ['jitedLineInfo', 'jited_line_info'],
      ['nrJitedLineInfo', 'nr_jited_line_info'],
      ['lineInfoRecSize', 'line_info_rec_size'],
      ['jitedLineInfoRecSize', 'jited_line_info_rec_size'],
      ['nrProgTags', 'nr_prog_tags'],
      ['progTags', 'prog_tags'],
      ['runTimeNs', 'run_time_ns'],
      ['runCnt', 'run_cnt'],
      ['recursionMisses', 'recursion_misses'],
      ['verifiedInsns', 'verified_insns'],
      ['attachBtfObjId', 'attach_btf_obj_id'],
      ['attachBtfId', 'attach_btf_id'],
    ],
  },
  {
    name: 'MapInfo',
    doc: '`struct bpf_map_info`.',
    btf: 'struct bpf_map_info',
    fields: [
      ['type', 'type'],
      ['id', 'id'],
      ['keySize', 'key_size'],
      ['valueSize', 'value_size'],
      ['maxEntries', 'max_entries'],
      ['mapFlags', 'map_flags'],
      ['name', 'name', 'bytes'],
      ['ifindex', 'ifindex'],
      ['btfVmlinuxValueTypeId', 'btf_vmlinux_value_type_id'],
      ['netnsDev', 'netns_dev'],
      ['netnsIno', 'netns_ino'],
      ['btfId', 'btf_id'],
      ['btfKeyTypeId', 'btf_key_type_id'],
      ['btfValueTypeId', 'btf_value_type_id'],
      ['btfVmlinuxId', 'btf_vmlinux_id'],
      ['mapExtra', 'map_extra'],
    ],
  },
  {
    name: 'LinkInfo',
    doc: '`struct bpf_link_info` (head plus the tracing / raw tracepoint tails).',
    btf: 'struct bpf_link_info',
    size: 64,
    fields: [
      ['type', 'type'],
      ['id', 'id'],
      ['progId', 'prog_id'],
      ['rawTracepointTpName', 'raw_tracepoint.tp_name'],
      ['rawTracepointTpNameLen', 'raw_tracepoint.tp_name_len'],
      ['tracingAttachType', 'tracing.attach_type'],
      ['tracingTargetObjId', 'tracing.target_obj_id'],
      ['tracingTargetBtfId', 'tracing.target_btf_id'],
    ],
  },
  {
    name: 'PerfEventAttr',
    doc: '`struct perf_event_attr` (the fields the loader sets); size PERF_ATTR_SIZE_VER5, which every kernel since 4.1 accepts.',
    btf: 'struct perf_event_attr',
    size: 112,
    fields: [
      ['type', 'type'],
      ['size', 'size'],
      ['config', 'config'],
      ['samplePeriod', 'sample_period'],
      ['sampleType', 'sample_type'],
      ['readFormat', 'read_format'],
      ['wakeupEvents', 'wakeup_events'],
      ['config1', 'config1'],
      ['config2', 'config2'],
    ],
  },
  {
    name: 'BtfInfo',
    doc: '`struct bpf_btf_info`.',
    btf: 'struct bpf_btf_info',
    fields: [
      ['btf', 'btf'],
      ['btfSize', 'btf_size'],
      ['id', 'id'],
      ['name', 'name'],
      ['nameLen', 'name_len'],
      ['kernelBtf', 'kernel_btf'],
    ],
  },
  {
    name: 'BtfGetFdAttr',
    doc: 'BPF_BTF_GET_FD_BY_ID (same shape as the other GET_FD_BY_ID commands).',
    btf: 'union bpf_attr',
    fields: [['btfId', 'btf_id']],
  },
  {
    name: 'PerfEventMmapPage',
    doc: "`struct perf_event_mmap_page`: the ring's control page (positions the reader uses).",
    btf: 'struct perf_event_mmap_page',
    size: 1056,
    fields: [
      ['dataHead', 'data_head'],
      ['dataTail', 'data_tail'],
      ['dataOffset', 'data_offset'],
      ['dataSize', 'data_size'],
    ],
  },
];

let out = `// GENERATED by scripts/gen-layouts.mjs from the kernel's BTF (${label}); DO NOT EDIT.\n`;
out += `// Offsets are uapi and stable; a newer kernel only appends fields.\n\n`;
out += `import { defineLayout } from '../layout.js';\n`;
for (const l of LAYOUTS) {
  const [kind, name] = l.btf.split(' ');
  const root = btf.typeByName(name, kind);
  out += `\n/** ${l.doc} */\nexport const ${l.name} = defineLayout(\n  '${l.btf}',\n  {\n`;
  for (const [key, path, bytes] of l.fields) {
    const loads = memberPath(btf, root, path).loads;
    if (loads.length !== 1) throw new Error(`${l.btf}.${path}: expected a direct member`);
    const { offset, size } = loads[0];
    out += `    ${key}: ['${path}', ${offset}, ${size}${bytes ? `, 'bytes'` : ''}],\n`;
  }
  out += `  },${l.size ? `\n  ${l.size},` : ''}\n);\n`;
}
const dest = fileURLToPath(new URL('../src/sys/generated/layouts.ts', import.meta.url));
writeFileSync(dest, out);
console.log(`wrote ${dest}`);
