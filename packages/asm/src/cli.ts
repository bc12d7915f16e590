console.error('bpf-asm: not built yet');
process.exitCode = 1;
