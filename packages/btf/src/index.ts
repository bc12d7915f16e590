/** btf-parser: read, query, dump and write BTF (BPF Type Format) in pure TypeScript. */
export { Btf, describe, type ParseOptions, type IterateOptions } from './btf.js';
export { BtfError, BtfNotFoundError, KernelBtfNotFoundError } from './errors.js';
export { parseHeader, BTF_MAGIC, type BtfHeader } from './header.js';
export { BtfKind, BtfIntEncoding, KIND_NAMES, kindNumber, type BtfKindName } from './kinds.js';
export type * from './types.js';
export { resolveType, skipQualifiers, sizeOf, alignOf, isSigned, pointerSize, MAX_RESOLVE_DEPTH } from './resolve.js';
export { enumType, enumValue, enumName, enumMap, type EnumRef } from './enums.js';
export { funcSignature, type FunctionSignature, type SignatureParam } from './functions.js';
export { tracepointSignature, type TracepointSignature, type TracepointParam } from './tracepoint.js';
export { typeName } from './type-name.js';
export { memberPath, findMember, type MemberPath, type MemberStep, type MemberLoad } from './member-path.js';
export {
  skbFunctions,
  pwruSkbFunctions,
  skbTracepoints,
  type SkbFunction,
  type SkbParam,
  type SkbPointerForm,
  type SkbFunctionOptions,
} from './skb.js';
export { elfSections, elfSection, isElf, ElfError, type ElfSection } from './elf.js';
export {
  parseBtfOrElf,
  loadBtfFile,
  loadKernelBtf,
  kernelBtfPaths,
  KernelBtfCache,
  type LoadOptions,
  type KernelBtfOptions,
} from './load.js';
export { BtfBuilder, type BuilderMember, type BuilderParam, type BuilderOptions } from './builder.js';
export { formatRaw, formatRawChunks, formatRawType } from './format/raw.js';
export { formatC, formatCChunks } from './format/c.js';
export { formatJson, formatJsonChunks, formatJsonType } from './format/json.js';
