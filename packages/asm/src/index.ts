/** bpf-asm-ts: The eBPF instruction set in TypeScript: builder, encoder/decoder, LLVM-syntax assembler and disassembler. */
export const VERSION = '0.1.0';
