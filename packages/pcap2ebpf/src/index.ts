/** pcap2ebpf: tcpdump (pcap-filter) expressions to classic BPF to eBPF, in pure TypeScript. */
export const VERSION = '0.1.0';
export * from './cbpf/opcode.js';
export * from './cbpf/instruction.js';
export * from './cbpf/errors.js';
export * from './cbpf/print.js';
export * from './cbpf/sockfilter.js';
export * from './cbpf/interpreter.js';
export * from './cbpf/validate.js';
export * from './cbpf/optimize.js';
export * from './cbpf/cfg.js';
export * from './compile.js';
export { FilterError, SYNTAX_ERROR, type Span, type FilterErrorKind } from './lang/errors.js';
export { parse, type NodeHook } from './lang/parser.js';
export { tokenize, type LexItem } from './lang/lexer.js';
export type { Token, TokenType } from './lang/tokens.js';
export type * from './lang/ast.js';
export { NameResolver, type NameFiles, type HostAddress, type ServicePort } from './names/resolver.js';
