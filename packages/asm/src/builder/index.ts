/** The builder DSL: one function or operation object per instruction family. */
export * from './alu.js';
export * from './call.js';
export * from './imm64.js';
export * from './jump.js';
export * from './memory.js';
export { sizeCode, type JumpTarget, type MemSize } from './operand.js';
