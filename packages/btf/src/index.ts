/** btf-parser: Read, query, dump and write BTF (BPF Type Format) in pure TypeScript. */
export const VERSION = '0.1.0';
